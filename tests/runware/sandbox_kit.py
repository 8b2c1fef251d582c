"""Shared helpers of the sandbox tests: a webhook receiver, tiny sample media, tasks and video probes."""

import io
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av

from animate.runware.client import ResponseBatch, RunwareClient
from animate.samples import make_character_png, make_driving_video

# Tiny on purpose: the machine is shared, and a second of video at 8 fps is plenty to check timing.
DRIVING_SECONDS = 1.0
DRIVING_FPS = 8


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What a webhook / upload endpoint got; ``statuses`` are answered first, then 200."""

    url: str
    statuses: list[int] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.calls) >= count:
                    return list(self.calls)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} calls within {timeout}s, got {len(self.calls)}")

    def bodies(self) -> list[Any]:
        with self.lock:
            return [call.json for call in self.calls if call.method == "POST"]


@contextmanager
def receiver(statuses: list[int] | None = None) -> Iterator[Receiver]:
    """A ThreadingHTTPServer on 127.0.0.1 recording every POST and PUT it receives."""
    state = Receiver(url="", statuses=list(statuses or []))

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                state.calls.append(Call(self.command, self.path, dict(self.headers), body))
                status = state.statuses.pop(0) if state.statuses else 200
                state.answered.append(status)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_PUT = _record

        def log_message(self, format: str, *args: Any) -> None:  # the test output stays quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/runware?token=secret"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class SampleMedia:
    image: bytes
    video: bytes


def sample_media(folder: Path) -> SampleMedia:
    image = make_character_png(folder / "character.png", width=256, height=256)
    video = make_driving_video(
        folder / "driving.mp4", seconds=DRIVING_SECONDS, fps=DRIVING_FPS, width=160, height=160
    )
    return SampleMedia(image=image.read_bytes(), video=video.read_bytes())


def sandbox_client(live_server: Any, **options: Any) -> RunwareClient:
    options = {"api_key": "test-key", "timeout": 10.0, "backoff_base": 0.05, **options}
    return RunwareClient(api_url=f"{live_server.url}/sandbox/v1", **options)


def video_task(client: RunwareClient, media: SampleMedia, **fields: Any) -> dict[str, Any]:
    """A valid task for the tiny samples (uploaded with mediaStorage): 480x480 at 8 fps unless told;
    a field given as None is left out."""
    image = client.upload_media(media.image).media_uuid
    video = client.upload_media(media.video).media_uuid
    task: dict[str, Any] = {
        "taskType": "videoInference",
        "taskUUID": str(uuid.uuid4()),
        "model": "runware:200@8",
        "inputs": {"referenceImages": [image], "referenceVideos": [video]},
        "width": 480,
        "height": 480,
        "fps": DRIVING_FPS,
    }
    return {key: value for key, value in (task | fields).items() if value is not None}


def finished(client: RunwareClient, task_uuid: str, *, timeout: float = 60.0) -> ResponseBatch:
    """Poll getResponse until no result is processing any more (and there is something to show)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = client.get_response(task_uuid)
        if (batch.data or batch.errors) and all(item.get("status") != "processing" for item in batch.data):
            return batch
        time.sleep(0.05)
    raise AssertionError(f"task {task_uuid} did not finish within {timeout}s")


@dataclass(frozen=True)
class Probe:
    brand: str  # container as the bytes say: "isom" (MP4), "qt" (MOV) or "webm"
    width: int
    height: int
    fps: float
    frames: int
    seconds: float


def probe(data: bytes) -> Probe:
    if data[4:8] == b"ftyp":
        brand = data[8:12].decode().strip()
    else:
        brand = "webm" if data.startswith(b"\x1a\x45\xdf\xa3") else "unknown"
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        rate = float(stream.average_rate or stream.guessed_rate)
        return Probe(brand, stream.width, stream.height, rate, frames, frames / rate)


def configure_sandbox(settings: Any, folder: Path) -> None:
    """Test settings: files under ``folder``, no configured faults or key, fast webhook retries."""
    settings.RUNWARE_SANDBOX_ROOT = folder / "sandbox"
    settings.RUNWARE_SANDBOX_FAULTS = ""  # explicit, so a RUNWARE_SANDBOX_FAULTS env var cannot leak in
    settings.RUNWARE_SANDBOX_API_KEY = ""
    settings.RUNWARE_SANDBOX_WEBHOOK_BACKOFF = 0.05
    settings.RUNWARE_SANDBOX_WEBHOOK_RETRY_FOR = 3.0
