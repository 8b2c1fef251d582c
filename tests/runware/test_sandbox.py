"""The sandbox over real HTTP, driven by our Runware client: results, deliveries, errors and auth."""

import base64
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from animate.runware import pricing
from animate.runware.client import RunwareAuthError, RunwareClient, RunwareError
from animate.runware.sandbox import delivery
from animate.runware.sandbox.engine import sandbox
from animate.samples import make_character_png, make_driving_video
from tests.runware.sandbox_kit import (
    DRIVING_SECONDS,
    SampleMedia,
    finished,
    probe,
    receiver,
    sandbox_client,
    video_task,
)

pytestmark = pytest.mark.usefixtures("sandbox_settings")


def api(live_server: Any, body: Any, *, key: str | None = "test-key") -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{live_server.url}/sandbox/v1", json=body, headers=headers, timeout=10)


# --- results -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("output_format", "brand"), [("MP4", "isom"), ("WEBM", "webm"), ("MOV", "qt")])
def test_a_task_is_acknowledged_at_once_and_ends_in_a_video_of_the_requested_shape(
    client: RunwareClient, media: SampleMedia, output_format: str, brand: str
) -> None:
    task = video_task(client, media, width=704, height=480, fps=12, outputFormat=output_format)

    started = time.monotonic()
    ack = client.submit(task)
    assert time.monotonic() - started < 1.0
    assert ack == {"taskType": "videoInference", "taskUUID": task["taskUUID"]}

    (item,) = finished(client, task["taskUUID"]).data
    assert item["status"] == "success"
    assert item["videoURL"].endswith(f"/sandbox/media/{item['videoUUID']}.{output_format.lower()}")
    video = probe(httpx.get(item["videoURL"]).content)
    assert (video.brand, video.width, video.height) == (brand, 704, 480)
    assert video.fps == pytest.approx(12, abs=1)
    assert abs(video.frames - round(DRIVING_SECONDS * 12)) <= 1


def test_a_result_carries_the_documented_fields_and_its_cost_from_pricing(
    client: RunwareClient, media: SampleMedia
) -> None:
    task = video_task(client, media, resolution="480p", width=None, height=None)
    client.submit(task)

    (item,) = finished(client, task["taskUUID"]).data
    assert {"taskType", "taskUUID", "status", "videoUUID", "videoURL", "seed", "NSFWContent", "cost"} <= set(
        item
    )
    assert uuid.UUID(item["videoUUID"]).version == 4
    assert 0 <= item["seed"] < 2**32
    assert item["NSFWContent"] is False
    assert item["cost"] == float(pricing.cost_per_result(task, DRIVING_SECONDS)) == 0.01
    # 480p and a square character: the square 360p-class row.
    assert (item["sandbox"]["width"], item["sandbox"]["height"]) == (480, 480)


def test_four_results_arrive_as_four_webhook_calls_with_distinct_seeds_and_video_uuids(
    client: RunwareClient, media: SampleMedia
) -> None:
    with receiver() as hooks:
        task = video_task(client, media, numberResults=4, webhookURL=hooks.url)
        client.submit(task)
        calls = hooks.wait_for(4)
        time.sleep(0.2)  # room for an unwanted fifth call to show up

        assert len(hooks.calls) == 4
        assert all(call.path == "/hooks/runware?token=secret" for call in calls)
        items = [call.json["data"][0] for call in calls]
        assert {item["taskUUID"] for item in items} == {task["taskUUID"]}
        assert len({item["seed"] for item in items}) == 4
        assert len({item["videoUUID"] for item in items}) == 4
        assert finished(client, task["taskUUID"]).data == items


def test_a_given_seed_numbers_the_results_and_the_same_seed_gives_the_same_bytes(
    client: RunwareClient, media: SampleMedia
) -> None:
    first = video_task(client, media, seed=1234, numberResults=2)
    again = video_task(client, media, seed=1234)
    client.submit(first)
    client.submit(again)

    one, two = finished(client, first["taskUUID"]).data
    (repeat,) = finished(client, again["taskUUID"]).data
    assert (one["seed"], two["seed"], repeat["seed"]) == (1234, 1235, 1234)
    assert httpx.get(one["videoURL"]).content == httpx.get(repeat["videoURL"]).content
    assert httpx.get(one["videoURL"]).content != httpx.get(two["videoURL"]).content


def test_unset_parameters_are_echoed_with_their_defaults_and_others_as_sent(
    client: RunwareClient, media: SampleMedia
) -> None:
    lora = [{"model": "civitai:1@1", "weight": 0.5}]
    task = video_task(
        client,
        media,
        advancedFeatures={"wanAnimate": {"mode": "replace", "prevSegCondFrames": 3}},
        lora=lora,
        acceleratorOptions={"teaCache": True},
    )
    client.submit(task)

    (item,) = finished(client, task["taskUUID"]).data
    assert (
        item["sandbox"] | {"mode": "replace", "prevSegCondFrames": 3, "retargetPose": False}
        == item["sandbox"]
    )
    assert item["sandbox"]["lora"] == lora
    assert item["sandbox"]["acceleratorOptions"] == {"teaCache": True}


def test_the_upload_endpoint_receives_the_video_bytes_by_put_before_the_webhook(
    client: RunwareClient, media: SampleMedia
) -> None:
    with receiver() as hooks:
        task = video_task(
            client, media, webhookURL=hooks.url, uploadEndpoint=hooks.url.replace("hooks", "put")
        )
        client.submit(task)
        put, post = hooks.wait_for(2)

    assert (put.method, post.method) == ("PUT", "POST")
    assert put.headers["Content-Type"] == "video/mp4"
    assert put.body == httpx.get(post.json["data"][0]["videoURL"]).content


def test_the_upload_is_made_before_get_response_reports_the_success(
    client: RunwareClient, media: SampleMedia
) -> None:
    with receiver() as hooks:
        task = video_task(client, media, uploadEndpoint=hooks.url.replace("hooks", "put"))
        client.submit(task)
        (item,) = finished(client, task["taskUUID"]).data
        # Seen as a success only once the bytes are where the task said: a poll never races the PUT.
        assert [call.method for call in hooks.calls] == ["PUT"]
        assert hooks.calls[0].body == httpx.get(item["videoURL"]).content


def test_an_upload_refused_with_a_4xx_is_not_sent_again_and_the_webhook_still_goes(
    client: RunwareClient, media: SampleMedia
) -> None:
    with receiver(statuses=[409]) as hooks:
        task = video_task(
            client, media, webhookURL=hooks.url, uploadEndpoint=hooks.url.replace("hooks", "put")
        )
        client.submit(task)
        hooks.wait_for(2)
        time.sleep(0.3)
    assert [call.method for call in hooks.calls] == ["PUT", "POST"]
    assert hooks.answered == [409, 200]


def test_an_upload_to_a_receiver_that_is_gone_gives_up_within_its_own_bound(
    client: RunwareClient, media: SampleMedia, settings: Any
) -> None:
    # The PUT holds a render thread: its retries stop after RUNWARE_SANDBOX_UPLOAD_RETRY_FOR, not after
    # the webhooks' much longer bound, so a dead receiver does not stall the tasks queued behind it.
    settings.RUNWARE_SANDBOX_WEBHOOK_RETRY_FOR = 300.0
    settings.RUNWARE_SANDBOX_WEBHOOK_BACKOFF = 0.05
    settings.RUNWARE_SANDBOX_UPLOAD_RETRY_FOR = 0.5
    with receiver() as hooks:
        gone = hooks.url.replace("hooks", "put")
    task = video_task(client, media, uploadEndpoint=gone)
    started = time.monotonic()
    client.submit(task)

    (item,) = finished(client, task["taskUUID"], timeout=30).data

    assert item["status"] == "success"
    assert time.monotonic() - started < 20


def test_the_garbage_upload_fault_puts_bytes_that_are_not_a_video(
    client: RunwareClient, media: SampleMedia
) -> None:
    with receiver() as hooks:
        task = video_task(
            client,
            media,
            uploadEndpoint=hooks.url.replace("hooks", "put"),
            positivePrompt="a dancer [sandbox:garbage_upload]",
        )
        client.submit(task)
        (put,) = hooks.wait_for(1)
    assert put.body == delivery.GARBAGE_UPLOAD


def test_a_webhook_answered_with_errors_is_retried_until_it_gets_a_2xx(
    client: RunwareClient, media: SampleMedia
) -> None:
    with receiver(statuses=[500, 503]) as hooks:
        client.submit(video_task(client, media, webhookURL=hooks.url))
        calls = hooks.wait_for(3)

    assert hooks.answered == [500, 503, 200]
    assert calls[0].body == calls[1].body == calls[2].body


def test_webhook_retries_stop_after_the_configured_time(
    settings: Any, client: RunwareClient, media: SampleMedia
) -> None:
    settings.RUNWARE_SANDBOX_WEBHOOK_RETRY_FOR = 0.5
    with receiver(statuses=[500] * 100) as hooks:
        client.submit(video_task(client, media, webhookURL=hooks.url))
        hooks.wait_for(2)
        time.sleep(1.5)
        attempts = len(hooks.calls)
        time.sleep(0.5)

    assert 2 <= attempts <= 6  # 0.05 + 0.1 + 0.2 + ... until 0.5 s have passed
    assert len(hooks.calls) == attempts


def test_the_video_url_serves_byte_ranges(client: RunwareClient, media: SampleMedia) -> None:
    task = video_task(client, media)
    client.submit(task)
    (item,) = finished(client, task["taskUUID"]).data
    whole = httpx.get(item["videoURL"])

    part = httpx.get(item["videoURL"], headers={"Range": "bytes=10-109"})
    tail = httpx.get(item["videoURL"], headers={"Range": "bytes=-50"})
    beyond = httpx.get(item["videoURL"], headers={"Range": f"bytes={len(whole.content)}-"})

    assert whole.headers["Accept-Ranges"] == "bytes"
    assert (part.status_code, part.content) == (206, whole.content[10:110])
    assert part.headers["Content-Range"] == f"bytes 10-109/{len(whole.content)}"
    assert (tail.status_code, tail.content) == (206, whole.content[-50:])
    assert beyond.status_code == 416


def test_the_video_url_is_gone_after_its_ttl(
    client: RunwareClient, media: SampleMedia, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = video_task(client, media, ttl=60)
    client.submit(task)
    (item,) = finished(client, task["taskUUID"]).data
    assert httpx.get(item["videoURL"]).status_code == 200

    monkeypatch.setattr(sandbox(), "clock", lambda: time.time() + 61)
    assert httpx.get(item["videoURL"]).status_code == 404


def test_results_can_be_fed_back_as_inputs_by_url(client: RunwareClient, media: SampleMedia) -> None:
    first = video_task(client, media)
    client.submit(first)
    (item,) = finished(client, first["taskUUID"]).data

    second = video_task(client, media)
    second["inputs"]["referenceVideos"] = [item["videoURL"]]
    client.submit(second)
    (result,) = finished(client, second["taskUUID"]).data
    assert result["status"] == "success"


# --- uploads and account ---------------------------------------------------------------------------


def test_media_storage_takes_bytes_data_uris_and_urls(client: RunwareClient, media: SampleMedia) -> None:
    from_bytes = client.upload_media(media.image)
    from_data_uri = client.upload_media("data:image/png;base64," + base64.b64encode(media.image).decode())
    from_url = client.upload_media(from_bytes.media_url or "")

    for upload in (from_bytes, from_data_uri, from_url):
        assert upload.media_url and upload.media_url.endswith(f"/sandbox/media/{upload.media_uuid}.png")
        assert httpx.get(upload.media_url).content == media.image


def test_media_storage_refuses_what_is_not_an_image_or_a_video(client: RunwareClient) -> None:
    with pytest.raises(RunwareError) as caught:
        client.upload_media(b"just some text")
    assert (caught.value.code, caught.value.parameter) == ("invalidMedia", "media")


def test_account_details_report_a_balance_that_falls_with_spending(
    live_server: Any, client: RunwareClient, media: SampleMedia
) -> None:
    def balance() -> float:
        body = api(
            live_server,
            [{"taskType": "accountManagement", "taskUUID": str(uuid.uuid4()), "operation": "getDetails"}],
        ).json()
        return body["data"][0]["balance"]

    before = balance()
    task = video_task(client, media, numberResults=2)
    client.submit(task)
    finished(client, task["taskUUID"])

    assert before - balance() == pytest.approx(0.02)


def test_usage_per_day_and_totals_are_what_the_sandbox_charged(
    live_server: Any, client: RunwareClient, media: SampleMedia
) -> None:
    engine = sandbox()
    today = engine.today()
    before = engine.usage(today, today)
    task = video_task(client, media, numberResults=2)
    client.submit(task)
    finished(client, task["taskUUID"])

    activity = client.usage_activity(start=today, end=today)
    details = client.account_details()

    charged = pricing.cost_per_result(task, DRIVING_SECONDS) * 2
    (day,) = activity.days
    spent_before = before[0][1] if before else 0
    assert day.day == today and day.amount - spent_before == charged
    assert details.usage["today"] == day.amount
    assert activity.raw["startDate"] == today.isoformat()


def test_usage_activity_refuses_a_range_it_cannot_read_naming_the_parameter(live_server: Any) -> None:
    for task, parameter in (
        ({"startDate": "soon", "endDate": "2026-12-01"}, "startDate"),
        ({"startDate": "2026-12-02", "endDate": "2026-12-01"}, "endDate"),
    ):
        body = api(
            live_server,
            [
                {
                    "taskType": "accountManagement",
                    "taskUUID": str(uuid.uuid4()),
                    "operation": "getUsageActivity",
                    **task,
                }
            ],
        ).json()
        assert body["errors"][0]["parameter"] == parameter


# --- errors ------------------------------------------------------------------------------------------


def test_an_invalid_task_gets_runware_style_errors_naming_each_parameter(
    live_server: Any, client: RunwareClient, media: SampleMedia
) -> None:
    task = video_task(client, media, fps=100, outputFormat="AVI")

    response = api(live_server, [task])

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {error["parameter"] for error in errors} == {"fps", "outputFormat"}
    for error in errors:
        assert error["code"] == "invalidParameter"
        assert error["taskType"] == "videoInference"
        assert error["taskUUID"] == task["taskUUID"]
        assert error["message"]
        assert error["documentation"].endswith(f"#request-{error['parameter'].lower()}")
    with pytest.raises(RunwareError) as caught:
        client.submit(task)
    assert caught.value.parameter in {"fps", "outputFormat"}


def test_a_forbidden_combination_names_the_parameter(client: RunwareClient, media: SampleMedia) -> None:
    with pytest.raises(RunwareError) as caught:
        client.submit(video_task(client, media, resolution="720p"))
    assert caught.value.code == "incompatibleParameters"
    assert "resolution" in str(caught.value.parameter)


def test_a_reused_task_uuid_is_answered_conflict(client: RunwareClient, media: SampleMedia) -> None:
    task = video_task(client, media)
    client.submit(task)

    with pytest.raises(RunwareError) as caught:
        client.submit(task)

    assert (caught.value.code, caught.value.status_code) == ("conflictTaskUUID", 400)
    assert caught.value.task_uuid == task["taskUUID"]


def test_an_unknown_task_type_is_rejected_naming_task_type(live_server: Any) -> None:
    response = api(live_server, [{"taskType": "imageInference", "taskUUID": str(uuid.uuid4())}])

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["code"], error["parameter"], error["taskType"]) == (
        "unsupportedTaskType",
        "taskType",
        "imageInference",
    )


def test_a_body_that_is_not_a_json_array_is_answered_400(live_server: Any) -> None:
    url, headers = f"{live_server.url}/sandbox/v1", {"Authorization": "Bearer test-key"}
    for body in (b'{"taskType": "ping"}', b"[1, 2]", b"not json", b"[]"):
        response = httpx.post(url, content=body, headers=headers)
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["code"] == "invalidRequestBody"


def test_each_task_of_an_array_is_answered_on_its_own(
    live_server: Any, client: RunwareClient, media: SampleMedia
) -> None:
    good, bad = video_task(client, media), video_task(client, media, fps=1)

    response = api(live_server, [good, bad, {"taskType": "ping"}])

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == [
        {"taskType": "videoInference", "taskUUID": good["taskUUID"]},
        {"taskType": "ping", "pong": True},
    ]
    assert [(error["taskUUID"], error["parameter"]) for error in body["errors"]] == [(bad["taskUUID"], "fps")]


def test_polling_an_unknown_task_answers_empty_data(client: RunwareClient) -> None:
    batch = client.get_response(str(uuid.uuid4()))
    assert (batch.data, batch.errors) == ([], [])


def test_an_unreachable_input_url_ends_in_an_error_result(client: RunwareClient, media: SampleMedia) -> None:
    task = video_task(client, media)
    task["inputs"]["referenceImages"] = ["http://127.0.0.1:9/character.png"]  # discard port: refused
    client.submit(task)

    batch = finished(client, task["taskUUID"])
    assert batch.data == []
    (error,) = batch.errors
    assert (error["status"], error["code"], error["parameter"]) == (
        "error",
        "invalidReferenceImage",
        "inputs.referenceImages",
    )
    assert "127.0.0.1:9" in error["message"]


def test_bytes_that_are_not_a_video_end_in_invalid_reference_video(
    client: RunwareClient, media: SampleMedia
) -> None:
    task = video_task(client, media)
    task["inputs"]["referenceVideos"] = [client.upload_media(media.image).media_uuid]
    with receiver() as hooks:
        client.submit(task | {"webhookURL": hooks.url})
        (call,) = hooks.wait_for(1)

    (error,) = call.json["errors"]
    assert (error["status"], error["code"], error["taskUUID"]) == (
        "error",
        "invalidReferenceVideo",
        task["taskUUID"],
    )
    assert finished(client, task["taskUUID"]).errors == [error]


def test_a_truncated_driving_video_ends_in_an_error_result(
    client: RunwareClient, media: SampleMedia, tmp_path: Path
) -> None:
    task = video_task(client, media)
    task["inputs"]["referenceVideos"] = [client.upload_media(media.video[: len(media.video) // 3]).media_uuid]
    client.submit(task)

    (error,) = finished(client, task["taskUUID"]).errors
    assert error["code"] == "invalidReferenceVideo"


# --- what the sandbox may contact, and what it logs --------------------------------------------------


def test_an_input_on_an_internal_address_ends_in_an_error_result_without_being_fetched(
    client: RunwareClient, media: SampleMedia
) -> None:
    task = video_task(client, media)
    # Not routable from here: were it contacted, the fetch would hang until its timeout.
    task["inputs"]["referenceImages"] = ["http://10.255.255.1/x.png"]
    task["inputs"]["referenceVideos"] = ["http://169.254.169.254/latest/meta-data/"]
    started = time.monotonic()
    client.submit(task)

    (error,) = finished(client, task["taskUUID"], timeout=5).errors
    assert time.monotonic() - started < 5
    assert (error["status"], error["code"], error["parameter"]) == (
        "error",
        "invalidReferenceImage",
        "inputs.referenceImages",
    )
    assert "10.255.255.1 is not allowed" in error["message"]
    assert "x.png" not in error["message"]


def test_media_storage_refuses_a_url_on_a_host_not_allowed(client: RunwareClient) -> None:
    with pytest.raises(RunwareError) as caught:
        client.upload_media("http://169.254.169.254/latest/meta-data/iam/")
    assert (caught.value.code, caught.value.parameter) == ("invalidMedia", "media")
    assert "169.254.169.254 is not allowed" in str(caught.value)


@pytest.mark.parametrize("parameter", ["webhookURL", "uploadEndpoint"])
def test_a_delivery_url_on_a_host_not_allowed_is_refused_at_submission(
    live_server: Any, client: RunwareClient, media: SampleMedia, parameter: str
) -> None:
    task = video_task(client, media, **{parameter: "http://169.254.169.254/hooks/runware/1/s3cret"})

    response = api(live_server, [task])

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["code"], error["parameter"], error["taskUUID"]) == (
        "invalidParameter",
        parameter,
        task["taskUUID"],
    )
    assert error["message"].startswith(f"{parameter}: The host 169.254.169.254 is not allowed")
    assert "s3cret" not in error["message"]
    assert client.get_response(task["taskUUID"]).data == []  # never accepted, so never run


def test_a_delivery_url_with_credentials_or_another_scheme_is_refused(
    live_server: Any, client: RunwareClient, media: SampleMedia
) -> None:
    task = video_task(client, media, webhookURL="http://user:pw@127.0.0.1:9/hook")

    response = api(live_server, [task])

    assert response.status_code == 400
    assert [error["parameter"] for error in response.json()["errors"]] == ["webhookURL"]
    assert "user name or password" in response.json()["errors"][0]["message"]


def test_a_receiver_on_a_configured_host_and_port_is_reached(
    settings: Any, client: RunwareClient, media: SampleMedia
) -> None:
    with receiver() as hooks:
        port = httpx.URL(hooks.url).port
        settings.RUNWARE_SANDBOX_ALLOWED_HOSTS = ["localhost", f"127.0.0.1:{port}"]
        client.submit(video_task(client, media, webhookURL=hooks.url))
        (call,) = hooks.wait_for(1)
        assert call.json["data"][0]["status"] == "success"

        refused = video_task(client, media, webhookURL=hooks.url.replace(f":{port}/", f":{port + 1}/"))
        with pytest.raises(RunwareError) as caught:
            client.submit(refused)
    assert caught.value.parameter == "webhookURL"


def test_a_delivery_to_a_host_not_allowed_is_never_sent_even_past_submission(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.RUNWARE_SANDBOX_ALLOWED_HOSTS = ["localhost"]
    policy = delivery.RetryPolicy(timeout=1, first_delay=0.01, give_up_after=0.1)
    with respx.mock(assert_all_called=False) as router, httpx.Client() as http:
        router.route().respond(200)
        sent = delivery.send(http, policy, "POST", "http://169.254.169.254/hooks/runware/1/s3cret")

    assert sent is False
    assert router.calls.call_count == 0
    assert "s3cret" not in caplog.text
    assert "http://169.254.169.254/hooks/runware/… not sent" in caplog.text


def test_a_failing_webhook_is_logged_without_its_secret(
    settings: Any, client: RunwareClient, media: SampleMedia, caplog: pytest.LogCaptureFixture
) -> None:
    settings.RUNWARE_SANDBOX_WEBHOOK_RETRY_FOR = 0.3
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # httpx's own request lines are redacted too
    with receiver(statuses=[500] * 100) as hooks:
        base = hooks.url.split("/hooks/")[0]
        # Not the app's /hooks/runware/<id>/<secret> shape, which the project's log filter redacts anyway.
        secret_url = f"{base}/hooks/sandbox-test/s3cret-path-segment?token=s3cret-query"
        client.submit(video_task(client, media, webhookURL=secret_url))
        hooks.wait_for(2)
        deadline = time.monotonic() + 10
        while not any("giving up" in record.getMessage() for record in caplog.records):
            assert time.monotonic() < deadline, "the sandbox never gave up on the webhook"
            time.sleep(0.05)

    assert hooks.calls[0].path == "/hooks/sandbox-test/s3cret-path-segment?token=s3cret-query"
    lines = [record.getMessage() + (record.exc_text or "") for record in caplog.records]
    assert not [line for line in lines if "s3cret" in line]
    assert any(f"POST {base}/hooks/sandbox-test/… failed" in line for line in lines)
    assert any(line.startswith(f"HTTP Request: POST {base}/hooks/sandbox-test/…") for line in lines)


# --- authentication ----------------------------------------------------------------------------------


def test_any_non_empty_key_is_accepted_when_none_is_configured(live_server: Any) -> None:
    response = api(live_server, [{"taskType": "ping"}], key="whatever")
    assert (response.status_code, response.json()) == (200, {"data": [{"taskType": "ping", "pong": True}]})


def test_a_request_without_a_key_is_refused_with_missing_api_key(live_server: Any) -> None:
    response = api(live_server, [{"taskType": "ping"}], key=None)

    assert response.status_code == 401
    (error,) = response.json()["errors"]
    assert (error["code"], error["parameter"], error["taskType"]) == (
        "missingApiKey",
        "apiKey",
        "authentication",
    )


def test_only_the_configured_key_is_accepted(settings: Any, live_server: Any) -> None:
    settings.RUNWARE_SANDBOX_API_KEY = "the-right-key"

    with (
        sandbox_client(live_server, api_key="a-wrong-key") as wrong,
        pytest.raises(RunwareAuthError) as caught,
    ):
        wrong.get_response(str(uuid.uuid4()))
    with sandbox_client(live_server, api_key="the-right-key") as right:
        assert right.get_response(str(uuid.uuid4())).data == []

    assert (caught.value.code, caught.value.status_code, caught.value.parameter) == (
        "invalidApiKey",
        401,
        "apiKey",
    )


def test_a_leading_authentication_task_authenticates_the_request(settings: Any, live_server: Any) -> None:
    settings.RUNWARE_SANDBOX_API_KEY = "the-right-key"
    ping = {"taskType": "ping"}

    accepted = api(live_server, [{"taskType": "authentication", "apiKey": "the-right-key"}, ping], key=None)
    refused = api(live_server, [{"taskType": "authentication", "apiKey": "nope"}, ping], key=None)

    assert accepted.status_code == 200
    auth, pong = accepted.json()["data"]
    assert auth["taskType"] == "authentication" and uuid.UUID(auth["connectionSessionUUID"])
    assert pong == {"taskType": "ping", "pong": True}
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["code"] == "invalidApiKey"


# --- speed -------------------------------------------------------------------------------------------


def test_a_ten_second_480p_task_completes_in_seconds(
    client: RunwareClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    character = make_character_png(tmp_path / "character.png", width=512, height=768)
    driving = make_driving_video(tmp_path / "driving.mp4", seconds=10, fps=16, width=480, height=704)
    task = video_task(client, SampleMedia(character.read_bytes(), driving.read_bytes()), fps=16)
    task |= {"width": 480, "height": 832}

    started = time.monotonic()
    client.submit(task)
    (item,) = finished(client, task["taskUUID"]).data
    elapsed = time.monotonic() - started

    video = probe(httpx.get(item["videoURL"]).content)
    assert (video.width, video.height, video.frames) == (480, 832, 160)
    with capsys.disabled():
        print(
            f"\n[sandbox] 10 s 480p (480x832, 16 fps, 160 frames) task: submit -> success in {elapsed:.2f} s"
        )
