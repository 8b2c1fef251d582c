"""Every route's body limit, enforced by the ASGI handler before a view runs or a byte is spooled."""

import asyncio
import json
import socket

import pytest
from asgiref.sync import async_to_sync

from animate.models import WebhookEvent
from animate.requestlimits import BODY_MEMORY_BYTES, BodyLimitedASGIHandler, LimitedReceive

MIB = 1024 * 1024


class FakeClient:
    """The server side of one request: hands the handler ``chunks`` and records what it sends."""

    def __init__(self, chunks: list[bytes] | None = None) -> None:
        self.chunks = list(chunks or [])
        self.received = 0
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        if not self.chunks:
            await asyncio.sleep(3600)  # the client waits for its answer (the handler cancels this)
        chunk = self.chunks.pop(0)
        self.received += 1
        return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return self.sent[0]["status"]

    @property
    def headers(self) -> dict[bytes, bytes]:
        return {name.lower(): value for name, value in self.sent[0]["headers"]}

    def json(self) -> dict:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent[1:]))


def call(path: str, headers: dict[str, str], chunks=None, method="POST", query=b"") -> FakeClient:
    client = FakeClient(chunks)
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "scheme": "http",
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }
    async_to_sync(BodyLimitedASGIHandler())(scope, client.receive, client.send)
    return client


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/hooks/runware/1/any-secret/", "256.0 KB"),
        ("/api/generations/", "1.0 MB"),
        ("/api/quote/", "1.0 MB"),
        ("/accounts/login/", "16.0 KB"),
        ("/admin/login/", "16.0 KB"),
        ("/no/such/page/", "1.0 MB"),
    ],
)
def test_a_declared_length_over_the_routes_limit_is_a_json_413_before_any_body_is_received(db, path, limit):
    client = call(path, {"content-length": str(300 * MIB), "content-type": "application/json"})
    assert client.received == 0
    assert client.status == 413
    assert client.headers[b"content-type"] == b"application/json"
    assert client.headers[b"connection"] == b"close"
    assert client.json() == {
        "errors": {"detail": [f"The request body is 300.0 MB; this URL accepts at most {limit}."]}
    }


def test_the_limits_follow_the_settings(transactional_db, settings):
    settings.ANIMATE_WEBHOOK_MAX_BYTES = 1000
    assert call("/hooks/runware/1/s/", {"content-length": "1001"}).status == 413
    client = call("/hooks/runware/1/s/", {"content-length": "1000"}, [b"x" * 1000])
    assert client.status == 404  # through to the view, which knows no such webhook


def test_a_length_that_is_not_a_number_is_a_json_400(db):
    client = call("/api/generations/", {"content-length": "12abc"})
    assert client.received == 0
    assert client.status == 400
    assert client.json() == {"errors": {"detail": ["The request's Content-Length is not a number of bytes."]}}


def test_a_chunked_body_is_counted_as_it_arrives_and_refused_once_past_the_limit(db, settings):
    settings.ANIMATE_WEBHOOK_MAX_BYTES = 256 * 1024
    client = call("/hooks/runware/1/secret/", {"transfer-encoding": "chunked"}, [b"x" * 64 * 1024] * 1000)
    assert client.status == 413
    assert client.received == 5  # the fifth 64 KiB chunk passed 256 KiB; the rest was never taken
    assert client.json()["errors"]["detail"] == [
        "The request body is over 320.0 KB; this URL accepts at most 256.0 KB."
    ]
    assert not WebhookEvent.objects.exists()


def test_a_chunked_body_within_the_limit_reaches_the_view(transactional_db, hooked_generation):
    generation, secret = hooked_generation()
    body = json.dumps(
        {
            "data": [
                {"taskType": "videoInference", "taskUUID": str(generation.task_uuid), "status": "processing"}
            ]
        }
    ).encode()
    client = call(
        f"/hooks/runware/{generation.pk}/{secret}/",
        {"transfer-encoding": "chunked", "content-type": "application/json"},
        [body[:10], body[10:]],
    )
    assert client.status == 202
    assert WebhookEvent.objects.get().generation_id == generation.pk


def test_the_upload_view_answers_in_the_apis_shape_with_its_kinds_limit(db):
    path = "/api/assets/"
    client = call(path, {"content-length": str(600 * MIB)}, query=b"kind=video")
    assert client.received == 0
    assert client.status == 413
    body = client.json()
    assert body == {
        "errors": {"file": ["Driving video: the upload is 600.0 MB; the most allowed is 500.0 MB."]}
    }
    # Without a length an upload cannot be parsed as it streams: 411, naming the file.
    chunked = call(path, {"transfer-encoding": "chunked"}, [b"x"])
    assert chunked.received == 0 and chunked.status == 411


def test_a_request_without_a_body_is_not_looked_at(transactional_db):
    client = call("/healthz", {}, [b""], method="GET")
    assert client.status == 200


def test_a_large_body_is_spooled_to_disk_past_the_memory_allowance():
    handler = BodyLimitedASGIHandler()
    chunks = [bytes([n % 256]) * 64 * 1024 for n in range(48)]  # 3 MiB
    client = FakeClient(chunks)
    body_file = async_to_sync(handler.read_body)(LimitedReceive(client.receive, 4 * MIB))
    try:
        assert body_file._rolled  # on disk: past BODY_MEMORY_BYTES nothing more stays in memory
        assert body_file.read() == b"".join(chunks)
    finally:
        body_file.close()
    assert BODY_MEMORY_BYTES <= 256 * 1024


def _raw_request(port: int, head: str, body: bytes = b"") -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    return answer.decode("latin-1")


@pytest.mark.timeout(60)
def test_over_http_an_oversized_webhook_is_refused_declared_or_chunked(live_server, hooked_generation):
    generation, secret = hooked_generation()
    host = f"Host: 127.0.0.1:{live_server.port}\r\n"
    declared = _raw_request(
        live_server.port,
        f"POST /hooks/runware/{generation.pk}/{secret}/ HTTP/1.1\r\n{host}"
        f"Content-Type: application/json\r\nContent-Length: {300 * MIB}\r\n\r\n",
    )  # and not one byte of the 300 MiB
    assert declared.startswith("HTTP/1.1 413")
    assert "application/json" in declared and '"detail"' in declared
    chunk = b"x" * 65536
    chunked = _raw_request(
        live_server.port,
        f"POST /hooks/runware/{generation.pk}/{secret}/ HTTP/1.1\r\n{host}"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 6,
    )
    assert chunked.startswith("HTTP/1.1 413")
    assert "application/json" in chunked and "this URL accepts at most 256.0 KB" in chunked
    assert not WebhookEvent.objects.exists()
