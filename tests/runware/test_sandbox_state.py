"""The sandbox's state file: a new engine on the same file is the sandbox it was (tasks, media, charges)."""

import base64
import time
import uuid
from pathlib import Path

import pytest

from animate.runware.sandbox.engine import Sandbox
from animate.runware.sandbox.faults import Faults
from tests.runware.sandbox_kit import sample_media

BASE_URL = "http://127.0.0.1:9/sandbox/"


@pytest.fixture(autouse=True)
def _root(settings, tmp_path: Path) -> None:
    settings.RUNWARE_SANDBOX_ROOT = tmp_path / "sandbox"


def _finished(engine: Sandbox, task_uuid: str, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data, errors = engine.get_response(task_uuid)
        if errors or (data and all(item["status"] == "success" for item in data)):
            return data + errors
        time.sleep(0.05)
    raise AssertionError(f"task {task_uuid} did not finish")


def _task(image: str, video: str) -> dict:
    return {
        "taskType": "videoInference",
        "taskUUID": str(uuid.uuid4()),
        "model": "runware:200@8",
        "inputs": {"referenceImages": [image], "referenceVideos": [video]},
        "resolution": "480p",
        "fps": 8,
        "includeCost": True,
        "numberResults": 2,
    }


def test_a_new_engine_on_the_same_file_has_the_tasks_media_and_charges(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    media = sample_media(tmp_path)
    first = Sandbox(workers=1, state_path=state)
    image, _ = first.upload(base64.b64encode(media.image).decode())
    video, _ = first.upload(base64.b64encode(media.video).decode())
    task = _task(image, video)
    assert first.count_submit(task["taskUUID"]) == 1
    first.accept(task, faults=Faults(), base_url=BASE_URL)
    results = _finished(first, task["taskUUID"])
    assert [item["status"] for item in results] == ["success", "success"]
    balance, usage = first.balance(), first.usage_since(0)
    assert usage[1] == 2

    again = Sandbox(workers=1, state_path=state)
    assert again.get_response(task["taskUUID"]) == (results, [])
    assert again.balance() == balance and again.usage_since(0) == usage
    for item in results:
        assert again.media_path(item["videoUUID"]).exists()
    assert again.media_path(image) is not None
    assert again.count_submit(task["taskUUID"]) == 2  # the second submission of that UUID


def test_an_unfinished_task_is_resumed_and_a_rendered_result_is_not_rendered_again(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    media = sample_media(tmp_path)
    first = Sandbox(workers=1, state_path=state)
    image, _ = first.upload(base64.b64encode(media.image).decode())
    video, _ = first.upload(base64.b64encode(media.video).decode())
    task = _task(image, video)
    # Accepted with a long delay: nothing rendered yet when this engine is dropped (as if killed).
    first.accept(task, faults=Faults(delay=3600), base_url=BASE_URL)
    assert [item["status"] for item in first.get_response(task["taskUUID"])[0]] == ["processing"] * 2

    resumed = Sandbox(workers=1, state_path=state)
    results = _finished(resumed, task["taskUUID"])
    assert [item["status"] for item in results] == ["success", "success"]
    assert resumed.usage_since(0)[1] == 2

    # Started once more after it finished: the same results, nothing charged twice.
    third = Sandbox(workers=1, state_path=state)
    assert third.get_response(task["taskUUID"])[0] == results
    assert third.usage_since(0)[1] == 2
