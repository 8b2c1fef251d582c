"""A log filter that keeps credentials carried in URLs out of every log line."""

import logging
import re

# Webhook URLs carry a per-generation secret; signed media URLs carry a bearer token.
_PATTERNS = (
    (re.compile(r"(/hooks/runware/\d+/)[^/\s\"']+"), r"\1[redacted]"),
    (re.compile(r"(/m/signed/)[^/\s\"']+"), r"\1[redacted]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
