"""``manage.py runware_sandbox``: the sandbox on its own port, at ``/v1`` as Runware, and ``/sandbox/v1``."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from animate.management.commands.runware_sandbox import plan
from animate.runware.client import RunwareClient, RunwareError
from project.topology import free_port
from tests.runware.sandbox_kit import finished, probe, sample_media


@contextmanager
def _serving(tmp_path: Path, *args: str, port: int | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """``manage.py runware_sandbox`` in its own process: its URL and the process (its log: ``_log``)."""
    port = port or free_port()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "ANIMATE_TESTING": "1",
        "VAR_DIR": str(tmp_path),
        "RUNWARE_SANDBOX_FAULTS": "",
        "LOG_LEVEL": "INFO",
    }
    command = [sys.executable, "manage.py", "runware_sandbox", "--port", str(port), "--log-level", "info"]
    # A file, not a pipe: a chatty server would block once a pipe nobody reads is full.
    with open(tmp_path / "sandbox.log", "ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and command line
            [*command, *args], cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=log
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
                    raise AssertionError(f"the sandbox did not start: {_log(tmp_path)}") from None
                time.sleep(0.1)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(10)


def _log(tmp_path: Path) -> str:
    return (tmp_path / "sandbox.log").read_text(errors="replace")


@pytest.fixture
def standalone(tmp_path: Path) -> Iterator[str]:
    with _serving(tmp_path) as (url, _process):
        yield url


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


def test_a_websocket_client_is_refused_cleanly_with_no_traceback_in_the_log(tmp_path: Path) -> None:
    # Runware's official SDKs speak websockets; the sandbox speaks HTTP only and says so with a 403.
    with _serving(tmp_path) as (url, process):
        for path in ("/v1", "/"):
            with pytest.raises(InvalidStatus) as refused:
                ws_connect(url.replace("http", "ws", 1) + path, proxy=None, open_timeout=5)
            assert refused.value.response.status_code == 403
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200  # still serving
        process.terminate()
        process.wait(10)
        log = _log(tmp_path)
    assert "Refused a websocket connection to /v1" in log
    assert "Traceback" not in log and '" 500' not in log and "Internal Server Error" not in log


def _task(media_image: str, media_video: str, prompt: str = "x") -> dict:
    return {
        "taskType": "videoInference",
        "taskUUID": str(uuid.uuid4()),
        "model": "runware:200@8",
        "positivePrompt": prompt,
        "inputs": {"referenceImages": [media_image], "referenceVideos": [media_video]},
        "resolution": "480p",
        "fps": 8,
    }


def test_a_restarted_sandbox_answers_for_and_finishes_the_tasks_it_accepted(tmp_path: Path) -> None:
    media = sample_media(tmp_path)
    port = free_port()
    state = tmp_path / "state.sqlite3"
    with _serving(tmp_path, "--state", str(state), port=port) as (url, process):
        with RunwareClient(api_url=f"{url}/v1", api_key="k", backoff_base=0.05) as client:
            image = client.upload_media(media.image)
            video = client.upload_media(media.video)
            done = _task(image.media_uuid, video.media_uuid)
            client.submit(done)
            (before,) = finished(client, done["taskUUID"]).data
            # Accepted, and still waiting to render when the process dies.
            pending = _task(image.media_uuid, video.media_uuid, prompt="x [sandbox:delay=60]")
            client.submit(pending)
        process.kill()  # no chance to save anything on the way out
    with _serving(tmp_path, "--state", str(state), port=port) as (url, process):
        with RunwareClient(api_url=f"{url}/v1", api_key="k", backoff_base=0.05) as client:
            # What was finished before is answered as it was, its video still served.
            assert client.get_response(done["taskUUID"]).data == [before]
            assert probe(httpx.get(before["videoURL"]).content).width == 480
            # The unfinished task is resumed (rendered now, not a minute later) and completes.
            (after,) = finished(client, pending["taskUUID"], timeout=30).data
            assert after["status"] == "success"
            # A taskUUID seen before the restart is still a conflict, as Runware answers.
            with pytest.raises(RunwareError):
                client.submit(dict(pending))
        process.terminate()
        process.wait(10)
        assert "resuming task" in _log(tmp_path)


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
