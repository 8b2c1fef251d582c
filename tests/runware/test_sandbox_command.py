"""``manage.py runware_sandbox``: the sandbox on its own port, at ``/v1`` as Runware, and ``/sandbox/v1``."""

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from animate.runware.client import RunwareClient
from tests.runware.sandbox_kit import finished, probe, sample_media


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def standalone(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "ANIMATE_TESTING": "1",
        "VAR_DIR": str(tmp_path),
        "RUNWARE_SANDBOX_FAULTS": "",
    }
    command = [sys.executable, "manage.py", "runware_sandbox", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and command line
        command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.post(f"{url}/v1", json=[], timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(f"the sandbox did not start: {process.stderr.read()!r}") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def test_the_standalone_sandbox_serves_runware_clients_at_v1(standalone: str, tmp_path: Path) -> None:
    media = sample_media(tmp_path)
    with RunwareClient(api_url=f"{standalone}/v1", api_key="any-key", backoff_base=0.05) as client:
        image = client.upload_media(media.image)
        video = client.upload_media(media.video)
        task_uuid = str(uuid.uuid4())
        client.submit(
            {
                "taskType": "videoInference",
                "taskUUID": task_uuid,
                "model": "runware:200@8",
                "inputs": {"referenceImages": [image.media_uuid], "referenceVideos": [video.media_uuid]},
                "resolution": "480p",
                "fps": 8,
            }
        )
        (item,) = finished(client, task_uuid).data

    assert image.media_url == f"{standalone}/media/{image.media_uuid}.png"
    assert item["videoURL"] == f"{standalone}/media/{item['videoUUID']}.mp4"
    video = probe(httpx.get(item["videoURL"]).content)
    assert (video.width, video.height) == (480, 480)  # 480p and a square character


def test_the_standalone_sandbox_also_answers_under_the_embedded_prefix(standalone: str) -> None:
    response = httpx.post(
        f"{standalone}/sandbox/v1", json=[{"taskType": "ping"}], headers={"Authorization": "Bearer k"}
    )
    assert response.json() == {"data": [{"taskType": "ping", "pong": True}]}
