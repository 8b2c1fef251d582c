"""How the sandbox reads an input reference: URL, data URI, bare base64 or a stored media UUID."""

import base64
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from animate.runware.sandbox.inputs import InputError, load

PAYLOAD = b"\x89PNG\r\n\x1a\n pretend image bytes"


@pytest.fixture(scope="module")
def files() -> Iterator[str]:
    """A tiny file server: /payload answers PAYLOAD, /big answers 4 KiB, anything else 404."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
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
        (str(uuid.uuid4()), "No media with UUID"),
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
