"""Result downloads reach only allow-listed provider hosts, stay under the size cap and fail clearly."""

import base64
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from animate.samples import make_driving_video
from animate.services.downloads import (
    DownloadedFile,
    DownloadFailed,
    DownloadRejected,
    decode_inline_video,
    download_provider_file,
)

RESULT_URL = "https://im.runware.ai/video/ws/0.5/vi/b7db282d.mp4"
BODY = b"\x00\x00\x00\x18ftypmp42" + b"v" * 5000


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _provider(settings) -> None:
    settings.RUNWARE_MEDIA_HOSTS = ["im.runware.ai", "cdn.runware.test:8443"]
    settings.ANIMATE_ALLOW_HTTP_MEDIA = False
    settings.ANIMATE_MAX_OUTPUT_BYTES = 1_000_000
    settings.ANIMATE_DOWNLOAD_TIMEOUT = 5


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    path = tmp_path / "downloads"
    path.mkdir()
    return path


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        yield mock


def test_download_streams_an_allowed_result_into_a_temporary_file(router, dest):
    router.get(RESULT_URL).respond(200, content=BODY, headers={"Content-Type": "video/mp4; charset=binary"})

    downloaded = download_provider_file(url=RESULT_URL, dest_dir=dest)

    assert downloaded == DownloadedFile(path=downloaded.path, size=len(BODY), content_type="video/mp4")
    assert downloaded.path.parent == dest
    assert downloaded.path.read_bytes() == BODY


@pytest.mark.parametrize(
    "url",
    [
        "https://IM.Runware.AI./video/x.mp4",
        "https://im.runware.ai:443/x.mp4",
        "https://cdn.runware.test:8443/x.mp4",
    ],
)
def test_download_matches_hosts_case_insensitively_with_ports(router, dest, url):
    router.get(url__regex=r".*").respond(200, content=BODY)

    assert download_provider_file(url=url, dest_dir=dest).size == len(BODY)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/x.mp4",
        "https://im.runware.ai.evil.example/x.mp4",
        "https://cdn.im.runware.ai/x.mp4",
        "https://127.0.0.1/x.mp4",
        "https://[::1]/x.mp4",
        "https://2130706433/x.mp4",
        "https://cdn.runware.test:9000/x.mp4",
        "https://im.runware.ai@127.0.0.1/x.mp4",
        "https://user:secret@im.runware.ai/x.mp4",
        "https://evil.example\\@im.runware.ai/x.mp4",
        "https://im.runware.ai /x.mp4",
        "file:///etc/passwd",
        "ftp://im.runware.ai/x.mp4",
        "//im.runware.ai/x.mp4",
        "",
    ],
)
def test_download_refuses_urls_off_the_allow_list_without_a_request(router, dest, url):
    route = router.route().respond(200, content=BODY)

    with pytest.raises(DownloadRejected):
        download_provider_file(url=url, dest_dir=dest)

    assert not route.called
    assert list(dest.iterdir()) == []


def test_download_refuses_plain_http_unless_the_setting_allows_it(settings, router, dest):
    route = router.get("http://im.runware.ai/x.mp4").respond(200, content=BODY)

    with pytest.raises(DownloadRejected, match="only https"):
        download_provider_file(url="http://im.runware.ai/x.mp4", dest_dir=dest)
    assert not route.called

    settings.ANIMATE_ALLOW_HTTP_MEDIA = True
    assert download_provider_file(url="http://im.runware.ai/x.mp4", dest_dir=dest).size == len(BODY)


def test_http_is_allowed_by_default_in_debug_or_sandbox_only(settings, router, dest):
    del settings.ANIMATE_ALLOW_HTTP_MEDIA
    router.get("http://im.runware.ai/x.mp4").respond(200, content=BODY)
    settings.DEBUG, settings.RUNWARE_SANDBOX = False, False

    with pytest.raises(DownloadRejected):
        download_provider_file(url="http://im.runware.ai/x.mp4", dest_dir=dest)

    settings.RUNWARE_SANDBOX = True
    assert download_provider_file(url="http://im.runware.ai/x.mp4", dest_dir=dest).size == len(BODY)


def test_download_follows_redirects_that_stay_on_the_allow_list(router, dest):
    router.get(RESULT_URL).respond(302, headers={"Location": "https://cdn.runware.test:8443/final.mp4"})
    router.get("https://cdn.runware.test:8443/final.mp4").respond(
        301, headers={"Location": "/moved/final.mp4"}
    )
    router.get("https://cdn.runware.test:8443/moved/final.mp4").respond(200, content=BODY)

    assert download_provider_file(url=RESULT_URL, dest_dir=dest).path.read_bytes() == BODY


@pytest.mark.parametrize(
    "location",
    ["http://169.254.169.254/latest/meta-data/", "https://evil.example/x.mp4", "https://127.0.0.1/x.mp4"],
)
def test_download_refuses_a_redirect_off_the_allow_list(router, dest, location):
    router.get(RESULT_URL).respond(302, headers={"Location": location})
    elsewhere = router.route(host__regex=r"^(?!im\.runware\.ai$)").respond(200, content=b"secret")

    with pytest.raises(DownloadRejected, match=r"not on RUNWARE_MEDIA_HOSTS|only https"):
        download_provider_file(url=RESULT_URL, dest_dir=dest)

    assert not elsewhere.called
    assert list(dest.iterdir()) == []


def test_download_gives_up_after_three_redirects(router, dest):
    for hop in range(5):
        router.get(f"https://im.runware.ai/{hop}").respond(302, headers={"Location": f"/{hop + 1}"})

    with pytest.raises(DownloadRejected, match="more than 3 redirects"):
        download_provider_file(url="https://im.runware.ai/0", dest_dir=dest)


def test_download_refuses_a_declared_length_above_the_cap_before_reading(settings, router, dest):
    settings.ANIMATE_MAX_OUTPUT_BYTES = 100
    router.get(RESULT_URL).respond(200, content=BODY)

    with pytest.raises(DownloadRejected, match="the most accepted is 100"):
        download_provider_file(url=RESULT_URL, dest_dir=dest)

    assert list(dest.iterdir()) == []


def test_download_aborts_mid_stream_when_an_undeclared_body_passes_the_cap(settings, router, dest):
    settings.ANIMATE_MAX_OUTPUT_BYTES = 300_000
    sent: list[int] = []

    def endless() -> Iterator[bytes]:
        while True:
            sent.append(65536)
            yield b"x" * 65536

    router.get(RESULT_URL).mock(return_value=httpx.Response(200, content=endless()))

    with pytest.raises(DownloadRejected, match="larger than 300000 bytes"):
        download_provider_file(url=RESULT_URL, dest_dir=dest)

    assert sum(sent) < 1_000_000
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize(
    "error", [httpx.ConnectTimeout("slow"), httpx.ReadTimeout("slow"), httpx.ConnectError("no")]
)
def test_download_reports_timeouts_and_network_errors_as_transient(router, dest, error):
    router.get(RESULT_URL).mock(side_effect=error)

    with pytest.raises(DownloadFailed):
        download_provider_file(url=RESULT_URL, dest_dir=dest)


def test_download_reports_a_body_shorter_than_its_content_length_as_transient(router, dest):
    router.get(RESULT_URL).respond(200, content=BODY[:100], headers={"Content-Length": str(len(BODY))})

    with pytest.raises(DownloadFailed, match=f"cut short: 100 of {len(BODY)} bytes"):
        download_provider_file(url=RESULT_URL, dest_dir=dest)

    assert list(dest.iterdir()) == []


@pytest.mark.parametrize(
    ("status", "error"), [(503, DownloadFailed), (429, DownloadFailed), (403, DownloadRejected)]
)
def test_download_sorts_provider_errors_into_transient_and_final(router, dest, status, error):
    router.get(RESULT_URL).respond(status)

    with pytest.raises(error, match=f"answered {status}"):
        download_provider_file(url=RESULT_URL, dest_dir=dest)


def test_download_treats_an_empty_body_as_transient(router, dest):
    router.get(RESULT_URL).respond(200, content=b"")

    with pytest.raises(DownloadFailed, match="empty"):
        download_provider_file(url=RESULT_URL, dest_dir=dest)

    assert list(dest.iterdir()) == []


# --- a real server on 127.0.0.1 ------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def do_GET(self) -> None:
        if self.path == "/short.mp4":
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"only a little")
            return
        if self.path == "/away":
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{self.server.server_port}/result.mp4")
            self.end_headers()
            return
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def local_server(settings, tmp_path: Path) -> Iterator[str]:
    clip = make_driving_video(tmp_path / "result.mp4", seconds=1, fps=8, width=160, height=240)
    _Handler.files = {"/result.mp4": clip.read_bytes()}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.RUNWARE_MEDIA_HOSTS = ["127.0.0.1"]
    settings.ANIMATE_ALLOW_HTTP_MEDIA = True
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_download_fetches_a_real_video_from_a_local_server(local_server, dest):
    downloaded = download_provider_file(url=f"{local_server}/result.mp4", dest_dir=dest)

    assert downloaded.content_type == "video/mp4"
    assert downloaded.path.read_bytes() == _Handler.files["/result.mp4"]
    assert downloaded.size == len(_Handler.files["/result.mp4"])


def test_download_notices_a_real_connection_closed_before_the_declared_length(local_server, dest):
    with pytest.raises(DownloadFailed):
        download_provider_file(url=f"{local_server}/short.mp4", dest_dir=dest)

    assert list(dest.iterdir()) == []


def test_download_refuses_a_real_redirect_to_a_host_name_not_on_the_list(local_server, dest):
    with pytest.raises(DownloadRejected, match="'localhost' is not on RUNWARE_MEDIA_HOSTS"):
        download_provider_file(url=f"{local_server}/away", dest_dir=dest)


def test_download_reports_a_missing_result_as_transient(local_server, dest):
    with pytest.raises(DownloadFailed, match="answered 404"):
        download_provider_file(url=f"{local_server}/nothing.mp4", dest_dir=dest)


# --- inline results ------------------------------------------------------------------------------


def test_decode_inline_video_writes_base64_data(dest):
    downloaded = decode_inline_video(base64_data=base64.b64encode(BODY).decode(), dest_dir=dest)

    assert downloaded.path.read_bytes() == BODY
    assert (downloaded.size, downloaded.content_type) == (len(BODY), "application/octet-stream")


def test_decode_inline_video_reads_the_type_from_a_data_uri(dest):
    encoded = base64.b64encode(BODY).decode()
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))

    downloaded = decode_inline_video(data_uri=f"data:video/WebM;codecs=vp9;base64,{wrapped}", dest_dir=dest)

    assert downloaded.path.read_bytes() == BODY
    assert downloaded.content_type == "video/webm"


def test_decode_inline_video_decodes_bodies_larger_than_one_chunk(dest):
    body = bytes(range(256)) * 2000

    downloaded = decode_inline_video(base64_data=base64.b64encode(body).decode(), dest_dir=dest)

    assert downloaded.path.read_bytes() == body


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base64_data": "not base64 at all!"},
        {"base64_data": ""},
        {"base64_data": "QUJ"},
        {"data_uri": "data:video/mp4,plain-not-base64"},
        {"data_uri": "https://im.runware.ai/x.mp4"},
    ],
)
def test_decode_inline_video_refuses_malformed_data(dest, kwargs):
    with pytest.raises(DownloadRejected):
        decode_inline_video(dest_dir=dest, **kwargs)

    assert list(dest.iterdir()) == []


def test_decode_inline_video_applies_the_size_cap_before_decoding(settings, dest):
    settings.ANIMATE_MAX_OUTPUT_BYTES = 1000

    with pytest.raises(DownloadRejected, match="larger than 1000 bytes"):
        decode_inline_video(base64_data=base64.b64encode(b"x" * 5000).decode(), dest_dir=dest)

    assert list(dest.iterdir()) == []


def test_decode_inline_video_refuses_a_result_without_any_data(dest):
    with pytest.raises(DownloadRejected, match="neither a video URL nor inline video data"):
        decode_inline_video(base64_data=None, data_uri=None, dest_dir=dest)


def test_decode_inline_video_prefers_the_data_uri_when_both_are_sent(dest):
    encoded = base64.b64encode(BODY).decode()

    downloaded = decode_inline_video(
        base64_data=encoded, data_uri=f"data:video/mp4;base64,{encoded}", dest_dir=dest
    )

    assert (downloaded.path.read_bytes(), downloaded.content_type) == (BODY, "video/mp4")
