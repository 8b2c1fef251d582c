"""How the sandbox reads an input reference: URL, data URI, bare base64 or a stored media UUID."""

import base64
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import respx
from django.core.exceptions import ImproperlyConfigured

from animate.runware.sandbox import outbound
from animate.runware.sandbox.inputs import InputError, load

PAYLOAD = b"\x89PNG\r\n\x1a\n pretend image bytes"
requested: list[str] = []


@pytest.fixture(scope="module")
def files() -> Iterator[str]:
    """A tiny file server: /payload answers PAYLOAD, /big answers 4 KiB, /redirect a 302 to the metadata
    address and /redirect-here a 302 to /payload; anything else 404. Paths asked for go to ``requested``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requested.append(self.path)
            if self.path.startswith("/redirect"):
                here = f"http://127.0.0.1:{self.server.server_address[1]}/payload"
                target = here if self.path == "/redirect-here" else "http://169.254.169.254/latest/"
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = {"/payload": PAYLOAD, "/big": b"x" * 4096}.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: Any) -> None:  # the test output stays quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def read(value: object, stored: dict[str, Path] | None = None) -> bytes:
    return load(
        value, code="invalidReferenceImage", parameter="inputs.referenceImages", lookup=(stored or {}).get
    )


def test_a_url_is_downloaded(files: str) -> None:
    assert read(f"{files}/payload") == PAYLOAD


def test_data_uris_and_bare_base64_are_decoded() -> None:
    encoded = base64.b64encode(PAYLOAD).decode()
    assert read(f"data:image/png;base64,{encoded}") == PAYLOAD
    assert read(encoded[:20] + "\n" + encoded[20:]) == PAYLOAD
    assert read("data:text/plain,hello%20there") == b"hello there"


def test_a_media_uuid_reads_the_stored_file(tmp_path: Path) -> None:
    media_uuid = str(uuid.uuid4())
    (tmp_path / "stored").write_bytes(PAYLOAD)
    assert read(media_uuid.upper(), {media_uuid: tmp_path / "stored"}) == PAYLOAD


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("/missing", "HTTP 404"),
        ("/big", "larger than 1024 bytes"),
        ("0b7d9c5e-2f4a-4c1e-8d3b-6a5f4e3d2c1b", "No media with UUID"),  # fixed: same id in every worker
        ("not base64 at all!", "not a URL, a data URI"),
        ("data:image/png;base64", "no ','"),
        ("", "must be a URL"),
        (42, "must be a URL"),
    ],
)
def test_an_unusable_input_is_an_input_error_with_the_code_and_parameter(
    settings: Any, files: str, value: object, message: str
) -> None:
    settings.RUNWARE_SANDBOX_MAX_INPUT_BYTES = 1024
    if isinstance(value, str) and value.startswith("/"):
        value = files + value

    with pytest.raises(InputError, match=message) as caught:
        read(value)

    assert (caught.value.code, caught.value.parameter) == ("invalidReferenceImage", "inputs.referenceImages")


def test_a_url_that_cannot_be_reached_names_only_its_host() -> None:
    with pytest.raises(InputError) as caught:
        read("http://127.0.0.1:9/secret-path?token=abc")
    assert "127.0.0.1:9" in caught.value.message
    assert "token" not in caught.value.message


# --- the host allow-list: nothing outside RUNWARE_SANDBOX_ALLOWED_HOSTS is ever contacted -----------------


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://10.255.255.1/x.png",
        "https://metadata.google.internal/computeMetadata/v1/?recursive=true",
        "http://127.0.0.1\\@169.254.169.254/",  # parsed as httpx sends it: user "127.0.0.1\\"
        "http://0x7f.1/x.png",  # 127.0.0.1 spelled otherwise: not a listed name
    ],
)
def test_a_url_on_a_host_not_allowed_is_refused_without_any_connection(settings: Any, url: str) -> None:
    settings.RUNWARE_SANDBOX_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    with respx.mock(assert_all_called=False) as router:
        router.route().respond(200, content=PAYLOAD)  # a connection, if one were made, would succeed
        with pytest.raises(InputError) as caught:
            read(url)

    assert router.calls.call_count == 0
    assert "not allowed" in caught.value.message
    for secret in ("latest", "meta-data", "computeMetadata", "recursive", "x.png", "HTTP", "Error"):
        assert secret not in caught.value.message
    assert (caught.value.code, caught.value.parameter) == ("invalidReferenceImage", "inputs.referenceImages")


def test_a_refused_host_is_named_with_the_setting_that_would_allow_it(settings: Any) -> None:
    settings.RUNWARE_SANDBOX_ALLOWED_HOSTS = ["localhost"]
    with pytest.raises(InputError) as caught:
        read("http://169.254.169.254/latest/meta-data/")
    assert caught.value.message == (
        "The input URL was refused. The host 169.254.169.254 is not allowed: the sandbox only contacts "
        "the hosts listed in RUNWARE_SANDBOX_ALLOWED_HOSTS."
    )


def test_a_url_with_a_user_name_or_password_is_refused_even_on_an_allowed_host(files: str) -> None:
    with (
        respx.mock(assert_all_called=False) as router,
        pytest.raises(InputError, match="user name or password") as caught,
    ):
        read(files.replace("http://", "http://admin:hunter2@") + "/payload")
    assert router.calls.call_count == 0
    assert "hunter2" not in caught.value.message


def test_a_redirect_from_an_allowed_host_is_not_followed(files: str) -> None:
    requested.clear()
    with pytest.raises(InputError, match="redirect") as caught:
        read(f"{files}/redirect")
    assert "HTTP 302" in caught.value.message
    assert "169.254.169.254" not in caught.value.message
    assert requested == ["/redirect"]  # and nothing after it


def test_a_redirect_to_the_same_host_is_not_followed_either(files: str) -> None:
    requested.clear()
    with pytest.raises(InputError, match="does not follow redirects"):
        read(f"{files}/redirect-here")
    assert requested == ["/redirect-here"]


def test_hosts_may_be_limited_to_one_port(settings: Any, files: str) -> None:
    port = int(files.rsplit(":", 1)[1])
    settings.RUNWARE_SANDBOX_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]
    assert read(f"{files}/payload") == PAYLOAD
    with pytest.raises(InputError, match="is not allowed"):
        read(f"http://127.0.0.1:{port + 1}/payload")
    with pytest.raises(InputError, match="is not allowed"):
        read(f"http://localhost:{port}/payload")


def test_by_default_loopback_and_the_public_base_url_host_are_allowed(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if hasattr(settings, "RUNWARE_SANDBOX_ALLOWED_HOSTS"):
        del settings.RUNWARE_SANDBOX_ALLOWED_HOSTS
    monkeypatch.delenv("RUNWARE_SANDBOX_ALLOWED_HOSTS", raising=False)
    settings.PUBLIC_BASE_URL = "https://animate.example.com"

    assert outbound.allowed_hosts() == [
        ("127.0.0.1", None),
        ("localhost", None),
        ("::1", None),
        ("animate.example.com", None),
    ]
    assert str(outbound.check("http://[::1]:8000/media/x.mp4")) == "http://[::1]:8000/media/x.mp4"
    assert outbound.check("https://animate.example.com/m/signed/t").host == "animate.example.com"
    with pytest.raises(outbound.RefusedURL):
        outbound.check("https://example.com/")

    monkeypatch.setenv("RUNWARE_SANDBOX_ALLOWED_HOSTS", "media.example.org, [::1]:8000")
    assert outbound.allowed_hosts() == [("media.example.org", None), ("::1", 8000)]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://127.0.0.1/x", "Only http and https"),
        ("file:///etc/passwd", "Only http and https"),
        ("http://user@localhost/", "user name or password"),
        ("http://localhost:99999999/", "not a valid URL"),
        ("http://[::1/", "not a valid URL"),
        ("http:///x", "no host"),
    ],
)
def test_only_plain_http_urls_pass_the_check(settings: Any, url: str, reason: str) -> None:
    settings.RUNWARE_SANDBOX_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    with pytest.raises(outbound.RefusedURL, match=reason):
        outbound.check(url)


def test_a_malformed_allowed_hosts_entry_is_a_configuration_error(settings: Any) -> None:
    settings.RUNWARE_SANDBOX_ALLOWED_HOSTS = ["localhost:http"]
    with pytest.raises(ImproperlyConfigured, match="localhost:http"):
        outbound.check("http://localhost/")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:8000/hooks/runware/12/s3cret", "http://127.0.0.1:8000/hooks/runware/…"),
        ("https://h.example/hooks/runware?token=s3cret", "https://h.example/hooks/runware?…"),
        ("https://u:s3cret@h.example/a", "https://h.example/a"),
        ("http://[::1]:81/", "http://[::1]:81/"),
    ],
)
def test_urls_are_redacted_to_scheme_host_port_and_two_path_segments(url: str, shown: str) -> None:
    assert outbound.redact(url) == shown
    assert outbound.redact_text(f"POST {url} failed") == f"POST {shown} failed"
