"""Every fault knob of the sandbox does what docs/sandbox.md says, seen through our client over HTTP."""

import dataclasses
import time
from typing import Any

import httpx
import pytest

from animate.runware.client import RunwareClient, RunwareTransportError
from animate.runware.sandbox import faults
from tests.runware.sandbox_kit import (
    SampleMedia,
    finished,
    receiver,
    sandbox_client,
    video_task,
)

pytestmark = pytest.mark.usefixtures("sandbox_settings")


def prompt(marker: str) -> str:
    return f"a person waving [sandbox:{marker}]"


# --- the grammar -------------------------------------------------------------------------------------


def test_the_grammar_reads_flags_numbers_words_and_defaults() -> None:
    parsed = faults.parse(
        " duplicate=3, delay=0.5,drop,order=reverse, error=inferenceError,nsfw=0 ", source="x"
    )
    assert parsed == {
        "duplicate": 3,
        "delay": 0.5,
        "drop": True,
        "order": "reverse",
        "error": "inferenceError",
        "nsfw": False,
    }
    assert faults.parse("duplicate,error,slow_download", source="x") == {
        "duplicate": 2,
        "error": "timeoutProvider",
        "slow_download": 64 * 1024,
    }


@pytest.mark.parametrize("text", ["dupliate=2", "duplicate=0", "delay", "order=sideways", "error=two words"])
def test_an_unknown_fault_or_bad_value_is_refused_naming_its_source(text: str) -> None:
    with pytest.raises(faults.FaultError) as caught:
        faults.parse(text, source="positivePrompt")
    assert caught.value.source == "positivePrompt"


def test_every_fault_has_a_parser() -> None:
    assert set(faults.FAULTS) == {field.name for field in dataclasses.fields(faults.Faults)}


def test_markers_in_the_prompt_override_the_configured_faults(settings: Any) -> None:
    settings.RUNWARE_SANDBOX_FAULTS = "duplicate=3,late"
    task = {"positivePrompt": "dance [sandbox:duplicate=1] then [sandbox:nsfw]"}
    assert faults.for_task(task) == faults.Faults(duplicate=1, late=True, nsfw=True)


def test_the_environment_variable_is_read_when_the_setting_is_absent(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    del settings.RUNWARE_SANDBOX_FAULTS
    monkeypatch.setenv("RUNWARE_SANDBOX_FAULTS", "drop")
    assert faults.for_task({}) == faults.Faults(drop=True)


# --- webhook faults ----------------------------------------------------------------------------------


def test_duplicate_sends_every_webhook_n_times(client: RunwareClient, media: SampleMedia) -> None:
    with receiver() as hooks:
        client.submit(video_task(client, media, webhookURL=hooks.url, positivePrompt=prompt("duplicate=3")))
        calls = hooks.wait_for(3)
        time.sleep(0.2)

    assert len(hooks.calls) == 3
    assert calls[0].body == calls[1].body == calls[2].body


def test_delay_holds_the_results_back(client: RunwareClient, media: SampleMedia) -> None:
    task = video_task(client, media, positivePrompt=prompt("delay=1.5"))
    started = time.monotonic()
    client.submit(task)

    time.sleep(0.5)
    assert [item["status"] for item in client.get_response(task["taskUUID"]).data] == ["processing"]
    finished(client, task["taskUUID"])
    assert time.monotonic() - started >= 1.5


def test_drop_sends_no_webhook_but_polling_still_has_the_result(
    client: RunwareClient, media: SampleMedia
) -> None:
    with receiver() as hooks:
        task = video_task(client, media, webhookURL=hooks.url, positivePrompt=prompt("drop"))
        client.submit(task)
        (item,) = finished(client, task["taskUUID"]).data
        time.sleep(0.3)

    assert item["status"] == "success"
    assert hooks.calls == []


def test_reverse_order_delivers_the_last_result_first(client: RunwareClient, media: SampleMedia) -> None:
    with receiver() as hooks:
        task = video_task(
            client,
            media,
            numberResults=3,
            seed=10,
            webhookURL=hooks.url,
            positivePrompt=prompt("order=reverse"),
        )
        client.submit(task)
        hooks.wait_for(3)

    assert [body["data"][0]["seed"] for body in hooks.bodies()] == [12, 11, 10]
    # Polling still lists the results in their own order.
    assert [item["seed"] for item in finished(client, task["taskUUID"]).data] == [10, 11, 12]


def test_shuffle_order_delivers_every_result_once(client: RunwareClient, media: SampleMedia) -> None:
    with receiver() as hooks:
        task = video_task(
            client,
            media,
            numberResults=4,
            seed=0,
            webhookURL=hooks.url,
            positivePrompt=prompt("order=shuffle"),
        )
        client.submit(task)
        hooks.wait_for(4)

    assert sorted(body["data"][0]["seed"] for body in hooks.bodies()) == [0, 1, 2, 3]


def test_late_sends_a_stale_processing_webhook_after_each_success(
    client: RunwareClient, media: SampleMedia
) -> None:
    with receiver() as hooks:
        task = video_task(client, media, webhookURL=hooks.url, positivePrompt=prompt("late"))
        client.submit(task)
        hooks.wait_for(2)

    success, stale = (body["data"][0] for body in hooks.bodies())
    assert success["status"] == "success"
    assert stale == {"taskType": "videoInference", "taskUUID": task["taskUUID"], "status": "processing"}


# --- submit faults -----------------------------------------------------------------------------------


def test_submit_5xx_before_accepting_is_retried_by_the_client_into_one_task(
    client: RunwareClient, media: SampleMedia
) -> None:
    with receiver() as hooks:
        task = video_task(client, media, webhookURL=hooks.url, positivePrompt=prompt("submit_5xx=2"))
        assert client.submit(task) == {"taskType": "videoInference", "taskUUID": task["taskUUID"]}
        hooks.wait_for(1)
        time.sleep(0.3)

    assert len(hooks.calls) == 1
    assert len(finished(client, task["taskUUID"]).data) == 1


def test_submit_5xx_beyond_the_clients_retries_accepts_nothing(live_server: Any, media: SampleMedia) -> None:
    with sandbox_client(live_server, max_retries=1) as client:
        task = video_task(client, media, positivePrompt=prompt("submit_5xx=2"))
        with pytest.raises(RunwareTransportError) as caught:
            client.submit(task)
        assert (caught.value.status_code, caught.value.attempts) == (503, 2)
        assert client.get_response(task["taskUUID"]).data == []


def test_submit_5xx_after_accepting_turns_the_retry_into_a_conflict_and_one_task(
    client: RunwareClient, media: SampleMedia
) -> None:
    with receiver() as hooks:
        task = video_task(
            client, media, webhookURL=hooks.url, positivePrompt=prompt("submit_5xx_after_accept=1")
        )
        assert client.submit(task) == {"taskType": "videoInference", "taskUUID": task["taskUUID"]}
        hooks.wait_for(1)
        time.sleep(0.3)

    assert len(hooks.calls) == 1


def test_a_submit_answered_after_the_client_timeout_is_retried_into_a_conflict(
    live_server: Any, media: SampleMedia
) -> None:
    with sandbox_client(live_server, timeout=0.5) as client:
        task = video_task(client, media, positivePrompt=prompt("submit_timeout=3"))
        started = time.monotonic()
        assert client.submit(task) == {"taskType": "videoInference", "taskUUID": task["taskUUID"]}
        assert time.monotonic() - started < 2.5
        assert len(finished(client, task["taskUUID"]).data) == 1


# --- result faults -----------------------------------------------------------------------------------


def test_error_fails_the_task_with_a_runware_style_error(client: RunwareClient, media: SampleMedia) -> None:
    with receiver() as hooks:
        task = video_task(
            client, media, numberResults=2, webhookURL=hooks.url, positivePrompt=prompt("error=1")
        )
        client.submit(task)
        (call,) = hooks.wait_for(1)

    (error,) = call.json["errors"]
    assert error["status"] == "error"
    assert error["code"] == "timeoutProvider"
    assert error["message"].startswith("The external provider did not respond")
    assert error["taskUUID"] == task["taskUUID"]
    batch = finished(client, task["taskUUID"])
    assert (batch.data, batch.errors) == ([], [error])


def test_error_can_name_the_code_to_fail_with(client: RunwareClient, media: SampleMedia) -> None:
    task = video_task(client, media, positivePrompt=prompt("error=inferenceError"))
    client.submit(task)

    (error,) = finished(client, task["taskUUID"]).errors
    assert error["code"] == "inferenceError"


def test_error_after_success_sends_the_success_then_an_error(
    client: RunwareClient, media: SampleMedia
) -> None:
    with receiver() as hooks:
        task = video_task(client, media, webhookURL=hooks.url, positivePrompt=prompt("error_after_success"))
        client.submit(task)
        hooks.wait_for(2)

    success, failure = hooks.bodies()
    assert success["data"][0]["status"] == "success"
    assert failure["errors"][0]["status"] == "error"
    assert failure["errors"][0]["taskUUID"] == task["taskUUID"]
    batch = finished(client, task["taskUUID"])
    assert (batch.data, batch.errors) == (success["data"], failure["errors"])


def test_fail_result_fails_one_result_of_several_while_the_others_succeed_and_are_charged(
    client: RunwareClient, media: SampleMedia
) -> None:
    with receiver() as hooks:
        task = video_task(
            client,
            media,
            numberResults=3,
            webhookURL=hooks.url,
            includeCost=True,
            positivePrompt=prompt("fail_result=2"),
        )
        client.submit(task)
        hooks.wait_for(3)

    bodies = hooks.bodies()
    assert [next(iter(body)) for body in bodies] == ["data", "errors", "data"]
    (error,) = bodies[1]["errors"]
    assert (error["status"], error["code"], error["taskUUID"]) == (
        "error",
        "inferenceError",
        task["taskUUID"],
    )
    assert "cost" not in error and error["message"].startswith("Result 2 of 3")
    batch = finished(client, task["taskUUID"])
    assert [item["status"] for item in batch.data] == ["success", "success"]
    assert all(item["cost"] > 0 for item in batch.data) and batch.errors == [error]


def test_fail_result_leaves_a_single_result_task_alone(client: RunwareClient, media: SampleMedia) -> None:
    task = video_task(client, media, positivePrompt=prompt("fail_result=1"))
    client.submit(task)
    batch = finished(client, task["taskUUID"])
    assert [item["status"] for item in batch.data] == ["success"] and batch.errors == []


def test_forget_acknowledges_the_task_then_answers_that_it_is_unknown(
    client: RunwareClient, media: SampleMedia
) -> None:
    from animate.runware.client import RunwareError

    with receiver() as hooks:
        task = video_task(client, media, webhookURL=hooks.url, positivePrompt=prompt("forget"))
        assert client.submit(task) == {"taskType": "videoInference", "taskUUID": task["taskUUID"]}
        with pytest.raises(RunwareError) as caught:
            client.get_response(task["taskUUID"])
        time.sleep(0.5)
        assert hooks.calls == []
    assert caught.value.code == "taskFailedOrNotFound" and caught.value.task_uuid == task["taskUUID"]


@pytest.mark.parametrize(
    ("safety", "flagged"),
    [
        ({"checkContent": True}, True),
        ({"mode": "full"}, True),
        ({"checkContent": False}, False),
        (None, False),
    ],
)
def test_nsfw_flags_results_only_when_the_task_asked_for_a_safety_check(
    client: RunwareClient, media: SampleMedia, safety: dict[str, Any] | None, flagged: bool
) -> None:
    task = video_task(client, media, safety=safety, positivePrompt=prompt("nsfw"))
    client.submit(task)

    (item,) = finished(client, task["taskUUID"]).data
    assert item["NSFWContent"] is flagged


# --- download faults ---------------------------------------------------------------------------------


def test_slow_download_throttles_the_video_url(client: RunwareClient, media: SampleMedia) -> None:
    task = video_task(client, media, positivePrompt=prompt("slow_download=40000"))
    client.submit(task)
    (item,) = finished(client, task["taskUUID"]).data

    started = time.monotonic()
    video = httpx.get(item["videoURL"]).content
    elapsed = time.monotonic() - started

    assert len(video) > 20000
    assert elapsed >= len(video) / 40000 * 0.8


def test_partial_download_closes_the_connection_after_half_the_bytes(
    client: RunwareClient, media: SampleMedia
) -> None:
    task = video_task(client, media, positivePrompt=prompt("partial_download"))
    client.submit(task)
    (item,) = finished(client, task["taskUUID"]).data

    received = bytearray()
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream("GET", item["videoURL"]) as response:
        promised = int(response.headers["Content-Length"])
        for chunk in response.iter_raw():
            received += chunk
    assert len(received) == promised // 2


# --- where faults come from --------------------------------------------------------------------------


def test_configured_faults_apply_to_every_task(
    settings: Any, client: RunwareClient, media: SampleMedia
) -> None:
    settings.RUNWARE_SANDBOX_FAULTS = "duplicate=2"
    with receiver() as hooks:
        client.submit(video_task(client, media, webhookURL=hooks.url))
        hooks.wait_for(2)
        time.sleep(0.2)

    assert len(hooks.calls) == 2


def test_a_fault_from_the_environment_applies_when_the_setting_is_absent(
    settings: Any, monkeypatch: pytest.MonkeyPatch, client: RunwareClient, media: SampleMedia
) -> None:
    del settings.RUNWARE_SANDBOX_FAULTS
    monkeypatch.setenv("RUNWARE_SANDBOX_FAULTS", "error=modelUnavailable")
    task = video_task(client, media)
    client.submit(task)

    (error,) = finished(client, task["taskUUID"]).errors
    assert error["code"] == "modelUnavailable"


def test_an_unknown_fault_in_a_prompt_is_refused_naming_the_prompt(
    live_server: Any, media: SampleMedia
) -> None:
    with sandbox_client(live_server) as client:
        task = video_task(client, media, positivePrompt=prompt("explode"))
    response = httpx.post(
        f"{live_server.url}/sandbox/v1", json=[task], headers={"Authorization": "Bearer k"}, timeout=10
    )

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["code"], error["parameter"], error["taskUUID"]) == (
        "invalidSandboxFault",
        "positivePrompt",
        task["taskUUID"],
    )
    assert "explode" in error["message"]
