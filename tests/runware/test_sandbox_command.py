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
from django.core.management import CommandError, call_command

from animate.management.commands.runware_sandbox import plan
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


# --- exposure: who may reach the standalone sandbox ---------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "sandbox.example.com"])  # noqa: S104
def test_binding_beyond_loopback_without_an_api_key_is_refused(host: str) -> None:
    with pytest.raises(CommandError, match="--api-key"):
        plan(host, api_key=None, configured_key="", allowed_hosts=["localhost"])


def test_the_command_refuses_before_serving_or_changing_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "RUNWARE_SANDBOX_API_KEY", "")
    served: list[object] = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: served.append(args))
    urlconf, hosts = settings.ROOT_URLCONF, list(settings.ALLOWED_HOSTS)

    with pytest.raises(CommandError, match=r"Refusing to bind 0\.0\.0\.0"):
        call_command("runware_sandbox", "--port", "8765", "--host", "0.0.0.0")  # noqa: S104

    assert served == []
    assert (urlconf, hosts) == (settings.ROOT_URLCONF, settings.ALLOWED_HOSTS)


@pytest.mark.parametrize(("api_key", "configured_key"), [("s3cret", ""), (None, "configured")])
def test_beyond_loopback_a_key_is_required_and_then_any_host_header_is_answered(
    api_key: str | None, configured_key: str
) -> None:
    exposure = plan("0.0.0.0", api_key=api_key, configured_key=configured_key, allowed_hosts=[])  # noqa: S104

    assert exposure.allowed_hosts == ["*"]
    assert exposure.api_key == (api_key or configured_key)
    assert any("reachable from the network" in warning for warning in exposure.warnings)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_on_loopback_no_key_is_needed_and_only_loopback_names_are_answered(host: str) -> None:
    exposure = plan(host, api_key=None, configured_key="", allowed_hosts=["testserver"])

    assert "*" not in exposure.allowed_hosts
    assert {"testserver", "localhost", "127.0.0.1", "[::1]"} <= set(exposure.allowed_hosts)
    assert exposure.api_key == ""
    assert any("accepts any non-empty API key" in warning for warning in exposure.warnings)


def test_a_key_on_the_command_line_wins_over_the_setting() -> None:
    assert plan("127.0.0.1", api_key="cli", configured_key="setting", allowed_hosts=[]).api_key == "cli"
