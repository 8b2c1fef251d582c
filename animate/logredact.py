"""Keeping credentials carried in URLs out of every log line, whichever logger or handler writes it.

Webhook URLs carry a per-generation secret, signed media URLs and share links a bearer token; they reach
log records through request paths (Django's own ``django.request`` logger, uvicorn's access log), HTTP
client errors and tracebacks. A filter on one handler misses every other handler (Django installs its
own at start-up), so the redaction happens where each record is made: ``configure_logging``
(``LOGGING_CONFIG`` in the settings) applies the ``LOGGING`` dict and installs a log record factory that
redacts the message, its arguments, the formatted traceback and the stack of every record in the process.
"""

import logging
import logging.config
import re
from typing import Any

# Webhook URLs carry a per-generation secret; signed media URLs and share links carry a bearer token
# (a share token is a signed value, long enough not to be mistaken for a word after "/s/").
_PATTERNS = (
    (re.compile(r"(/hooks/runware/\d+/)[^/\s\"'?#]+"), r"\1[redacted]"),
    (re.compile(r"(/m/signed/)[^/\s\"'?#]+"), r"\1[redacted]"),
    (re.compile(r"(/s/)[\w.:-]{20,}"), r"\1[redacted]"),
    # A result upload endpoint's token, and the signature of a presigned bucket URL (GET or PUT).
    (re.compile(r"(/r/uploads/)[^/\s\"'?#]+"), r"\1[redacted]"),
    (re.compile(r"((?:X-Amz-Signature|X-Amz-Security-Token|X-Amz-Credential)=)[^&\s\"'#]+"), r"\1[redacted]"),
)
_PLAIN = (str, int, float, bool, type(None))
_formatter = logging.Formatter()


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redacted_argument(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, _PLAIN):
        return value
    # An object (a URL, a request) whose text holds a credential is logged as its redacted text.
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


def redact_record(record: logging.LogRecord) -> None:
    """Rewrite ``record`` in place so that nothing a handler formats from it holds a credential.

    The arguments keep their structure (a formatter such as uvicorn's access formatter unpacks them).
    """
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    elif record.msg is not None and not isinstance(record.msg, _PLAIN):
        record.msg = _redacted_argument(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_redacted_argument(value) for value in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _redacted_argument(value) for key, value in record.args.items()}
    if record.exc_info and not record.exc_text:
        # Formatters reuse ``exc_text`` when it is set, so the traceback is formatted once, redacted.
        record.exc_text = redact(_formatter.formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _redacting_factory(base: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        redact_record(record)
        return record

    factory.redacts = True  # type: ignore[attr-defined]
    return factory


def install_record_factory() -> None:
    base = logging.getLogRecordFactory()
    if not getattr(base, "redacts", False):
        logging.setLogRecordFactory(_redacting_factory(base))


def configure_logging(config: dict[str, Any]) -> None:
    """``LOGGING_CONFIG``: the settings' ``LOGGING`` dict, and redaction of every record."""
    logging.config.dictConfig(config)
    install_record_factory()
