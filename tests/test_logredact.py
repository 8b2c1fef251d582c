import logging
import re

import httpx
import pytest

from animate.logredact import redact, redact_record
from tests.livehelpers import app_process, manage

SECRET = "Sup3r-secret_webhook-token-0123456789abcdefghij"
TOKEN = "eyJhIjoxfQ:1tXyZ9:signed-media-token-abcdefghijkl"


def test_webhook_secrets_signed_tokens_and_share_links_are_redacted():
    line = (
        '127.0.0.1 - "POST /hooks/runware/12/AbC-_secret123/ HTTP/1.1" 202 '
        "and GET /m/signed/tok.en:x/video.mp4 and GET /s/eyJpZCI6MX0:1tXyZ9:abcdefgh/o/3/file"
    )
    cleaned = redact(line)
    assert "AbC-_secret123" not in cleaned and "tok.en:x" not in cleaned and "eyJpZCI6MX0" not in cleaned
    assert "/hooks/runware/12/[redacted]/" in cleaned and "/m/signed/[redacted]/video.mp4" in cleaned
    assert "/s/[redacted]/o/3/file" in cleaned
    assert redact("3 req/s/core") == "3 req/s/core"


def test_presigned_bucket_urls_and_result_upload_tokens_are_redacted():
    url = (
        "http://127.0.0.1:9000/media/teams/1/o.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAEXAMPLE%2F20261201%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Expires=300"
        "&X-Amz-SignedHeaders=host&X-Amz-Signature=0123abcd&X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE"
    )
    cleaned = redact(f"PUT {url} and PUT /r/uploads/0b8f6d1e-1111:sig-abc_DEF HTTP/1.1")
    for secret in ("0123abcd", "AKIAEXAMPLE", "FwoGZXIvYXdzEXAMPLE", "sig-abc_DEF"):
        assert secret not in cleaned
    assert "X-Amz-Signature=[redacted]" in cleaned and "X-Amz-Expires=300" in cleaned
    assert "/r/uploads/[redacted] HTTP/1.1" in cleaned


def _record(msg, args=None, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("any", logging.WARNING, __file__, 1, msg, args, exc_info)


def test_a_record_keeps_its_argument_structure_with_every_argument_redacted():
    record = _record('%s "%s %s" %d', ("1.2.3.4", "POST", f"/hooks/runware/3/{SECRET}/", 404))
    redact_record(record)
    assert record.args == ("1.2.3.4", "POST", "/hooks/runware/3/[redacted]/", 404)
    assert record.getMessage() == '1.2.3.4 "POST /hooks/runware/3/[redacted]/" 404'


def test_objects_tracebacks_and_messages_are_redacted_too():
    url = httpx.URL(f"http://127.0.0.1/m/signed/{TOKEN}/v.mp4")
    try:
        raise RuntimeError(f"delivery to http://x/hooks/runware/9/{SECRET}/ failed")
    except RuntimeError:
        import sys

        record = _record(f"POST /hooks/runware/9/{SECRET}/ for %s", (url,), sys.exc_info())
    redact_record(record)
    text = logging.Formatter().format(record)
    assert SECRET not in text and TOKEN not in text
    assert text.count("[redacted]") == 4  # message, argument, and the source line and text of the error


def test_every_logger_of_the_process_redacts_where_the_record_is_made(caplog):
    # caplog's handler is not the console handler of the settings: the redaction does not depend on one.
    with caplog.at_level(logging.INFO):
        logging.getLogger("django.request").warning("Not Found: %s", f"/hooks/runware/1/{SECRET}/")
        logging.getLogger("some.library").info(f"GET /m/signed/{TOKEN}/a.mp4")
    assert SECRET not in caplog.text and TOKEN not in caplog.text
    assert caplog.text.count("[redacted]") == 2


GENERATION = f"""
from animate.models import Asset, Generation, Team
from animate.services.generations import webhook_secret_hash
team = Team.objects.create(name="T", slug="t")
common = dict(team=team, size=1, width=1, height=1)
image = Asset.objects.create(kind="image", file="i.png", content_type="image/png", sha256="1" * 64, **common)
video = Asset.objects.create(
    kind="video", file="v.mp4", content_type="video/mp4", sha256="2" * 64, duration=1, **common
)
generation = Generation.objects.create(
    team=team, image=image, video=video, status="submitted",
    webhook_secret_hashes=[webhook_secret_hash("{SECRET}")],
)
print("generation", generation.pk)
"""


@pytest.mark.timeout(120)
def test_all_log_output_of_a_rejected_webhook_and_a_bad_signed_url_holds_no_secret(tmp_path):
    env = {"DEBUG": "1", "LOG_LEVEL": "INFO"}  # as `make run`: Django's own DEBUG console logs too
    manage(tmp_path, env, "migrate", "--noinput")
    created = manage(tmp_path, env, "shell", "-c", GENERATION)
    generation_id = re.search(r"^generation (\d+)$", created, re.MULTILINE).group(1)
    with app_process(tmp_path, env) as (url, log_path), httpx.Client(base_url=url) as client:
        hook = f"/hooks/runware/{generation_id}/{SECRET}/"
        assert (
            client.post(hook, content=b"{broken", headers={"Content-Type": "application/json"}).status_code
            == 400
        )
        assert client.post(f"/hooks/runware/999/{SECRET}/", json={}).status_code == 404
        assert client.get(f"/m/signed/{TOKEN}/video.mp4").status_code == 404
        assert client.get(f"/m/signed/{TOKEN}").status_code == 404  # no route at all
    log = log_path.read_text()
    assert "Bad Request" in log and "Not Found" in log  # Django's request logger did write
    assert SECRET not in log and TOKEN not in log
    assert "/hooks/runware/999/[redacted]/" in log and "/m/signed/[redacted]" in log
