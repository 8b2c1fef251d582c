import logging

from animate.logredact import RedactSecrets, redact


def test_webhook_secrets_and_signed_tokens_are_redacted():
    line = (
        '127.0.0.1 - "POST /hooks/runware/12/AbC-_secret123/ HTTP/1.1" 202 '
        "and GET /m/signed/tok.en:x/video.mp4"
    )
    cleaned = redact(line)
    assert "AbC-_secret123" not in cleaned and "tok.en:x" not in cleaned
    assert "/hooks/runware/12/[redacted]/" in cleaned and "/m/signed/[redacted]/video.mp4" in cleaned


def test_the_filter_rewrites_formatted_records_and_keeps_them():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s "%s %s"',
        ("1.2.3.4", "POST", "/hooks/runware/3/s3cr3t/"),
        None,
    )
    assert RedactSecrets().filter(record) is True
    assert record.getMessage() == '1.2.3.4 "POST /hooks/runware/3/[redacted]/"'


def test_the_console_handler_of_the_settings_redacts():
    from django.conf import settings

    assert "redact" in settings.LOGGING["handlers"]["console"]["filters"]
    assert settings.LOGGING["loggers"]["uvicorn.access"]["handlers"] == ["console"]
