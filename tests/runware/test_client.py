"""The Runware REST client: wire format, envelopes, errors, retries, conflicts, uploads, secrecy."""

import base64
import json
import logging
import random
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from animate.runware.client import (
    AsyncRunwareClient,
    MediaUpload,
    ResponseBatch,
    RunwareAuthError,
    RunwareClient,
    RunwareError,
    RunwareTransportError,
)

API_URL = "https://api.runware.test/v1"
API_KEY = "rw-test-key-7f3a9c1e5b2d4068"
TASK_UUID = "24cd5dff-cb81-4db5-8506-b72a9425f9d1"
OTHER_UUID = "0e6a3a52-8a8f-4a7e-9d61-2f0c1b9e4d77"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "runware"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def video_task(**fields: Any) -> dict[str, Any]:
    return {
        "taskType": "videoInference",
        "taskUUID": TASK_UUID,
        "model": "runware:200@8",
        "inputs": {
            "referenceImages": ["https://app.example.com/media/character.png"],
            "referenceVideos": ["https://app.example.com/media/driving.mp4"],
        },
        "resolution": "720p",
        **fields,
    }


def sent_tasks(route: respx.Route) -> list[list[dict[str, Any]]]:
    return [json.loads(call.request.content) for call in route.calls]


def error_body(code: str, **fields: Any) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": f"{code} happened", **fields}]}


def with_task_uuid(body: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    """A responder that answers `body` with each data item's taskUUID set to the request's."""

    def respond(request: httpx.Request) -> httpx.Response:
        task_uuid = json.loads(request.content)[0]["taskUUID"]
        data = [{**item, "taskUUID": task_uuid} for item in body["data"]]
        return httpx.Response(200, json={**body, "data": data})

    return respond


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Iterator[Callable[..., RunwareClient]]:
    clients: list[RunwareClient] = []

    def make(**overrides: Any) -> RunwareClient:
        options: dict[str, Any] = {
            "api_url": API_URL,
            "api_key": API_KEY,
            "sleep": sleeps.append,
            "jitter": lambda: 0.0,
        }
        clients.append(RunwareClient(**{**options, **overrides}))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., RunwareClient]) -> RunwareClient:
    return make_client()


@pytest.fixture
async def async_client(sleeps: list[float]) -> AsyncIterator[AsyncRunwareClient]:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with AsyncRunwareClient(
        api_url=API_URL, api_key=API_KEY, sleep=sleep, jitter=lambda: 0.0
    ) as async_client:
        yield async_client


# --- wire format ---------------------------------------------------------------------------------------


def test_submit_posts_a_json_array_with_bearer_auth_and_json_headers(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(API_URL).respond(200, json=fixture("ack"))

    client.submit(video_task())

    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert isinstance(json.loads(request.content), list)


def test_submit_forces_include_cost_and_async_delivery_and_leaves_the_callers_task_alone(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(API_URL).respond(200, json=fixture("ack"))
    task = video_task(includeCost=False, deliveryMethod="sync")

    client.submit(task)

    assert sent_tasks(route) == [[{**task, "includeCost": True, "deliveryMethod": "async"}]]
    assert task["includeCost"] is False and task["deliveryMethod"] == "sync"


def test_submit_returns_the_acknowledgement_item(client: RunwareClient, respx_mock: respx.MockRouter) -> None:
    respx_mock.post(API_URL).respond(200, json=fixture("ack"))

    assert client.submit(video_task()) == fixture("ack")["data"][0]


@pytest.mark.parametrize("task_uuid", [None, ""])
def test_submit_refuses_a_task_without_a_task_uuid_before_sending_anything(
    client: RunwareClient, respx_mock: respx.MockRouter, task_uuid: str | None
) -> None:
    task = video_task(taskUUID=task_uuid)

    with pytest.raises(ValueError, match="taskUUID"):
        client.submit(task)

    assert not respx_mock.calls


def test_every_request_carries_the_configured_timeout(
    make_client: Callable[..., RunwareClient], respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(API_URL).respond(200, json=fixture("ack"))

    make_client(timeout=7.5).submit(video_task())

    assert route.calls.last.request.extensions["timeout"] == {
        "connect": 7.5,
        "read": 7.5,
        "write": 7.5,
        "pool": 7.5,
    }


def test_a_given_transport_carries_the_requests() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=fixture("ack"))

    with RunwareClient(api_url=API_URL, api_key=API_KEY, transport=httpx.MockTransport(handler)) as client:
        client.submit(video_task())

    assert [str(request.url) for request in seen] == [API_URL]


def test_a_closed_client_sends_nothing(client: RunwareClient) -> None:
    with client:
        pass

    with pytest.raises(RuntimeError):
        client.submit(video_task())


@pytest.mark.parametrize("options", [{"api_key": ""}, {"max_retries": -1}])
def test_the_client_refuses_an_empty_key_or_negative_retries(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RunwareClient(**{"api_url": API_URL, "api_key": API_KEY, **options})


def test_from_settings_reads_the_runware_settings(settings: Any, respx_mock: respx.MockRouter) -> None:
    settings.RUNWARE_API_URL = API_URL
    settings.RUNWARE_API_KEY = API_KEY
    settings.RUNWARE_TIMEOUT = 7.5
    settings.RUNWARE_MAX_RETRIES = 1
    route = respx_mock.post(API_URL).respond(503)

    with RunwareClient.from_settings(sleep=lambda _: None) as client, pytest.raises(RunwareTransportError):
        client.submit(video_task())

    assert route.call_count == 2
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert route.calls.last.request.extensions["timeout"]["read"] == 7.5


def test_from_settings_lets_keyword_overrides_win(settings: Any, respx_mock: respx.MockRouter) -> None:
    settings.RUNWARE_API_URL = "https://elsewhere.test/v1"
    settings.RUNWARE_MAX_RETRIES = 5
    route = respx_mock.post(API_URL).respond(503)

    with (
        RunwareClient.from_settings(api_url=API_URL, max_retries=0) as client,
        pytest.raises(RunwareTransportError),
    ):
        client.submit(video_task())

    assert route.call_count == 1


# --- envelopes and errors -------------------------------------------------------------------------------


def test_submit_accepts_data_as_an_object(client: RunwareClient, respx_mock: respx.MockRouter) -> None:
    ack = {"taskType": "videoInference", "taskUUID": TASK_UUID}
    respx_mock.post(API_URL).respond(200, json={"data": ack})

    assert client.submit(video_task()) == ack


def test_an_errors_only_body_raises_a_runware_error_with_every_field(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    body = error_body(
        "unsupportedDuration",
        parameter="duration",
        type="float",
        taskType="videoInference",
        taskUUID=TASK_UUID,
        allowedValues=[6],
    )
    respx_mock.post(API_URL).respond(400, json=body)

    with pytest.raises(RunwareError) as caught:
        client.submit(video_task())

    error = caught.value
    assert type(error) is RunwareError
    assert (error.code, error.message, error.parameter) == (
        "unsupportedDuration",
        "unsupportedDuration happened",
        "duration",
    )
    assert (error.task_uuid, error.status_code) == (TASK_UUID, 400)
    assert str(error) == "unsupportedDuration: unsupportedDuration happened (parameter: duration)"


def test_an_error_parameter_may_be_a_list(client: RunwareClient, respx_mock: respx.MockRouter) -> None:
    body = error_body("incompatibleParameters", parameter=["resolution", "width"], taskUUID=TASK_UUID)
    respx_mock.post(API_URL).respond(400, json=body)

    with pytest.raises(RunwareError) as caught:
        client.submit(video_task())

    assert caught.value.parameter == ["resolution", "width"]
    assert str(caught.value).endswith("(parameter: resolution, width)")


def test_an_error_without_parameter_reads_code_then_message(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(API_URL).respond(400, json=error_body("modelUnavailable", taskUUID=TASK_UUID))

    with pytest.raises(RunwareError, match=r"^modelUnavailable: modelUnavailable happened$"):
        client.submit(video_task())


def test_submit_raises_the_error_naming_its_task_rather_than_the_first(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    body = {
        "errors": [
            {"code": "unsupportedParameter", "message": "not ours", "taskUUID": OTHER_UUID},
            {"code": "invalidPositivePrompt", "message": "ours", "taskUUID": TASK_UUID},
        ]
    }
    respx_mock.post(API_URL).respond(400, json=body)

    with pytest.raises(RunwareError) as caught:
        client.submit(video_task())

    assert caught.value.code == "invalidPositivePrompt"


def test_submit_returns_its_ack_when_the_errors_in_the_same_body_name_other_tasks(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    ack = {"taskType": "videoInference", "taskUUID": TASK_UUID}
    body = {"data": [ack], "errors": [{"code": "unsupportedParameter", "taskUUID": OTHER_UUID}]}
    respx_mock.post(API_URL).respond(200, json=body)

    assert client.submit(video_task()) == ack


def test_submit_raises_the_first_error_when_none_names_its_task_and_no_ack_came(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    body = {
        "data": [{"taskType": "videoInference", "taskUUID": OTHER_UUID}],
        "errors": [{"code": "internalServerError", "message": "boom"}, {"code": "second"}],
    }
    respx_mock.post(API_URL).respond(200, json=body)

    with pytest.raises(RunwareError) as caught:
        client.submit(video_task())

    assert (caught.value.code, caught.value.status_code) == ("internalServerError", 200)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, fixture("error_invalid_api_key")),
        (400, error_body("missingApiKey", parameter="apiKey")),
        (403, error_body("forbidden")),
    ],
    ids=["invalid-key", "missing-key-code", "http-403"],
)
def test_auth_codes_and_statuses_raise_runware_auth_error(
    client: RunwareClient, respx_mock: respx.MockRouter, status: int, body: dict[str, Any]
) -> None:
    respx_mock.post(API_URL).respond(status, json=body)

    with pytest.raises(RunwareAuthError) as caught:
        client.submit(video_task())

    assert caught.value.status_code == status
    assert caught.value.code == body["errors"][0]["code"]


@pytest.mark.parametrize(
    ("status", "content", "error_class", "code"),
    [
        (404, b"<html>Not Found</html>", RunwareError, "httpError"),
        (401, b"Unauthorized", RunwareAuthError, "httpError"),
        (400, b"", RunwareError, "httpError"),
        (200, b"<html>maintenance</html>", RunwareError, "invalidResponse"),
        (200, b'{"unexpected": true}', RunwareError, "invalidResponse"),
        (200, b'{"data": "not items"}', RunwareError, "invalidResponse"),
        (200, b'{"data": []}', RunwareError, "invalidResponse"),
        (200, b"[]", RunwareError, "invalidResponse"),
    ],
)
def test_a_reply_without_a_usable_envelope_raises_a_clear_error(
    client: RunwareClient,
    respx_mock: respx.MockRouter,
    status: int,
    content: bytes,
    error_class: type[RunwareError],
    code: str,
) -> None:
    respx_mock.post(API_URL).respond(status, content=content, headers={"Content-Type": "text/html"})

    with pytest.raises(error_class) as caught:
        client.submit(video_task())

    assert (caught.value.code, caught.value.status_code, caught.value.task_uuid) == (code, status, TASK_UUID)
    assert f"HTTP {status}" in str(caught.value)


# --- retries ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.ReadTimeout("read timed out"),
        httpx.WriteTimeout("write timed out"),
        httpx.PoolTimeout("pool timed out"),
        httpx.ReadError("connection reset"),
        httpx.RemoteProtocolError("server disconnected"),
        httpx.Response(408),
        httpx.Response(429),
        httpx.Response(500),
        httpx.Response(502),
        httpx.Response(503),
        httpx.Response(504),
    ],
    ids=lambda failure: getattr(failure, "status_code", None) or type(failure).__name__,
)
def test_a_transient_failure_is_retried_with_the_same_task_uuid(
    client: RunwareClient,
    respx_mock: respx.MockRouter,
    sleeps: list[float],
    failure: Exception | httpx.Response,
) -> None:
    route = respx_mock.post(API_URL).mock(side_effect=[failure, httpx.Response(200, json=fixture("ack"))])

    assert client.submit(video_task())["taskUUID"] == TASK_UUID

    first, second = (call.request.content for call in route.calls)
    assert first == second
    assert json.loads(second)[0]["taskUUID"] == TASK_UUID
    assert sleeps == [1.0]


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 422])
def test_a_client_error_is_not_retried(
    client: RunwareClient, respx_mock: respx.MockRouter, sleeps: list[float], status: int
) -> None:
    route = respx_mock.post(API_URL).respond(status, json=error_body("refused", taskUUID=TASK_UUID))

    with pytest.raises(RunwareError) as caught:
        client.submit(video_task())

    assert caught.value.status_code == status
    assert route.call_count == 1
    assert sleeps == []


def test_backoff_doubles_from_the_base_between_attempts(
    client: RunwareClient, respx_mock: respx.MockRouter, sleeps: list[float]
) -> None:
    respx_mock.post(API_URL).respond(503)

    with pytest.raises(RunwareTransportError):
        client.submit(video_task())

    assert sleeps == [1.0, 2.0, 4.0]


def test_jittered_backoff_stays_within_one_base_above_the_exponential_and_keeps_growing(
    make_client: Callable[..., RunwareClient], respx_mock: respx.MockRouter, sleeps: list[float]
) -> None:
    respx_mock.post(API_URL).respond(502)
    client = make_client(max_retries=6, backoff_base=0.5, jitter=random.Random(20250919).random)

    with pytest.raises(RunwareTransportError):
        client.submit(video_task())

    floors = [0.5 * 2 ** (retry - 1) for retry in range(1, 7)]
    assert all(floor <= delay < floor + 0.5 for floor, delay in zip(floors, sleeps, strict=True))
    assert sleeps == sorted(set(sleeps))
    assert sleeps != floors


def test_backoff_never_exceeds_the_cap(
    make_client: Callable[..., RunwareClient], respx_mock: respx.MockRouter, sleeps: list[float]
) -> None:
    respx_mock.post(API_URL).respond(500)
    client = make_client(backoff_base=4.0, backoff_cap=10.0, jitter=lambda: 0.5)

    with pytest.raises(RunwareTransportError):
        client.submit(video_task())

    assert sleeps == [6.0, 10.0, 10.0]


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_honoured_on_429_and_503(
    client: RunwareClient, respx_mock: respx.MockRouter, sleeps: list[float], status: int
) -> None:
    respx_mock.post(API_URL).mock(
        side_effect=[
            httpx.Response(status, headers={"Retry-After": "7"}),
            httpx.Response(200, json=fixture("ack")),
        ]
    )

    client.submit(video_task())

    assert sleeps == [7.0]


def test_retry_after_is_capped(
    client: RunwareClient, respx_mock: respx.MockRouter, sleeps: list[float]
) -> None:
    respx_mock.post(API_URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3600"}),
            httpx.Response(200, json=fixture("ack")),
        ]
    )

    client.submit(video_task())

    assert sleeps == [30.0]


@pytest.mark.parametrize(
    ("status", "retry_after"),
    [(500, "7"), (429, "Wed, 21 Oct 2015 07:28:00 GMT"), (503, "-5"), (503, "nan")],
)
def test_retry_after_falls_back_to_backoff_on_other_statuses_or_unusable_values(
    client: RunwareClient, respx_mock: respx.MockRouter, sleeps: list[float], status: int, retry_after: str
) -> None:
    respx_mock.post(API_URL).mock(
        side_effect=[
            httpx.Response(status, headers={"Retry-After": retry_after}),
            httpx.Response(200, json=fixture("ack")),
        ]
    )

    client.submit(video_task())

    assert sleeps == [1.0]


def test_exhausted_retries_on_http_errors_raise_a_transport_error_with_status_and_attempts(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(API_URL).respond(503, json=error_body("serviceUnavailable"))

    with pytest.raises(RunwareTransportError) as caught:
        client.submit(video_task())

    assert (caught.value.status_code, caught.value.attempts) == (503, 4)
    assert route.call_count == 4
    assert "HTTP 503 (serviceUnavailable: serviceUnavailable happened)" in str(caught.value)
    assert TASK_UUID in str(caught.value)


def test_exhausted_retries_on_network_errors_raise_a_transport_error_without_status(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(API_URL).mock(side_effect=httpx.ConnectError("connection refused"))

    with pytest.raises(RunwareTransportError) as caught:
        client.submit(video_task())

    assert (caught.value.status_code, caught.value.attempts) == (None, 4)
    assert route.call_count == 4
    assert "ConnectError: connection refused" in str(caught.value)
    assert isinstance(caught.value.__context__, httpx.ConnectError)


def test_zero_max_retries_makes_a_single_attempt(
    make_client: Callable[..., RunwareClient], respx_mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = respx_mock.post(API_URL).mock(side_effect=httpx.ReadTimeout("read timed out"))

    with pytest.raises(RunwareTransportError) as caught:
        make_client(max_retries=0).submit(video_task())

    assert caught.value.attempts == 1
    assert route.call_count == 1
    assert sleeps == []


def test_a_transport_error_retrying_cannot_fix_fails_at_once(
    client: RunwareClient, respx_mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = respx_mock.post(API_URL).mock(side_effect=httpx.UnsupportedProtocol("unsupported scheme"))

    with pytest.raises(RunwareTransportError) as caught:
        client.submit(video_task())

    assert caught.value.attempts == 1
    assert route.call_count == 1
    assert sleeps == []


def test_attempts_and_retries_are_logged_with_the_task_uuid(
    client: RunwareClient, respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="animate.runware.client")
    respx_mock.post(API_URL).mock(side_effect=[httpx.Response(502), httpx.Response(200, json=fixture("ack"))])

    client.submit(video_task())

    messages = [record.getMessage() for record in caplog.records if record.name == "animate.runware.client"]
    assert f"Runware videoInference {TASK_UUID}: attempt 1 of 4" in messages
    assert f"Runware videoInference {TASK_UUID}: attempt 2 of 4" in messages
    assert any("attempt 1 of 4 failed (HTTP 502); retrying in 1.00s" in message for message in messages)


# --- conflictTaskUUID -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lost_answer",
    [httpx.ReadTimeout("read timed out"), httpx.Response(502)],
    ids=["timeout", "502"],
)
def test_a_conflict_on_a_retried_submit_means_the_task_was_already_accepted(
    client: RunwareClient, respx_mock: respx.MockRouter, lost_answer: Exception | httpx.Response
) -> None:
    route = respx_mock.post(API_URL).mock(
        side_effect=[lost_answer, httpx.Response(400, json=fixture("error_conflict"))]
    )

    ack = client.submit(video_task())

    assert ack == {"taskType": "videoInference", "taskUUID": TASK_UUID}
    assert [tasks[0]["taskUUID"] for tasks in sent_tasks(route)] == [TASK_UUID, TASK_UUID]


def test_a_conflict_on_the_first_attempt_is_a_reused_task_uuid(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(API_URL).respond(400, json=fixture("error_conflict"))

    with pytest.raises(RunwareError) as caught:
        client.submit(video_task())

    assert (caught.value.code, caught.value.task_uuid, caught.value.parameter) == (
        "conflictTaskUUID",
        TASK_UUID,
        "taskUUID",
    )


# --- getResponse ------------------------------------------------------------------------------------------


def test_get_response_sends_a_get_response_task_and_returns_every_item_as_received(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    body = fixture("get_response_mixed")
    route = respx_mock.post(API_URL).respond(200, json=body)

    batch = client.get_response(TASK_UUID)

    assert sent_tasks(route) == [[{"taskType": "getResponse", "taskUUID": TASK_UUID}]]
    assert batch == ResponseBatch(data=body["data"], errors=body["errors"])
    assert [item["status"] for item in batch.data + batch.errors] == ["processing", "success", "error"]


def test_get_response_keeps_cost_as_the_float_runware_sent(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(API_URL).respond(200, json=fixture("get_response_mixed"))

    cost = client.get_response(TASK_UUID).data[1]["cost"]

    assert isinstance(cost, float)
    assert Decimal(str(cost)) == Decimal("0.18")


def test_get_response_of_a_task_with_nothing_yet_is_an_empty_batch(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(API_URL).respond(200, json={"data": []})

    assert client.get_response(TASK_UUID) == ResponseBatch(data=[], errors=[])


def test_get_response_returns_failed_generations_whatever_the_http_status(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    body = fixture("webhook_error")
    respx_mock.post(API_URL).respond(400, json=body)

    assert client.get_response(TASK_UUID) == ResponseBatch(data=[], errors=body["errors"])


@pytest.mark.parametrize(
    ("status", "body", "error_class"),
    [
        (401, fixture("error_invalid_api_key"), RunwareAuthError),
        (200, error_body("invalidApiKey", status="error", taskUUID=TASK_UUID), RunwareAuthError),
        (400, error_body("unsupportedParameter", parameter="taskUUID", taskUUID=TASK_UUID), RunwareError),
        (200, error_body("inferenceError", status="error", taskUUID=OTHER_UUID), RunwareError),
        (200, error_body("inferenceError", status="error"), RunwareError),
    ],
    ids=["auth-401", "auth-code-as-result", "refused-poll", "another-task", "no-task-uuid"],
)
def test_get_response_raises_when_the_poll_itself_was_refused(
    client: RunwareClient,
    respx_mock: respx.MockRouter,
    status: int,
    body: dict[str, Any],
    error_class: type[RunwareError],
) -> None:
    payload = {**body, "data": fixture("get_response_mixed")["data"]}
    respx_mock.post(API_URL).respond(status, json=payload)

    with pytest.raises(error_class) as caught:
        client.get_response(TASK_UUID)

    assert caught.value.code == body["errors"][0]["code"]


def test_get_response_raises_on_an_error_status_without_errors(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(API_URL).respond(404, json={"data": []})

    with pytest.raises(RunwareError) as caught:
        client.get_response(TASK_UUID)

    assert (caught.value.code, caught.value.status_code) == ("httpError", 404)


def test_get_response_is_retried_on_a_transient_failure(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    body = fixture("get_response_mixed")
    route = respx_mock.post(API_URL).mock(side_effect=[httpx.Response(502), httpx.Response(200, json=body)])

    assert client.get_response(TASK_UUID).data == body["data"]
    assert sent_tasks(route) == [[{"taskType": "getResponse", "taskUUID": TASK_UUID}]] * 2


# --- mediaStorage upload ----------------------------------------------------------------------------------


def test_upload_media_sends_bytes_as_bare_base64_under_a_fresh_uuid4(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(API_URL).mock(side_effect=with_task_uuid(fixture("media_upload")))
    video = b"\x00\x00\x00\x18ftypmp42 fake video bytes"

    upload = client.upload_media(video)

    [[task]] = sent_tasks(route)
    assert task == {
        "taskType": "mediaStorage",
        "taskUUID": task["taskUUID"],
        "operation": "upload",
        "media": base64.b64encode(video).decode(),
    }
    assert uuid.UUID(task["taskUUID"]).version == 4
    assert upload == MediaUpload(
        media_uuid="989ba605-1449-4e1e-b462-cd83ec9c1a67",
        media_url="https://im.runware.ai/media/989ba605-1449-4e1e-b462-cd83ec9c1a67.mp4",
        task_uuid=task["taskUUID"],
    )


@pytest.mark.parametrize(
    "media",
    ["https://app.example.com/media/driving.mp4", "data:video/mp4;base64,AAAAGGZ0eXA=", "AAAAGGZ0eXA="],
)
def test_upload_media_passes_a_string_through_unchanged(
    client: RunwareClient, respx_mock: respx.MockRouter, media: str
) -> None:
    route = respx_mock.post(API_URL).mock(side_effect=with_task_uuid(fixture("media_upload")))

    client.upload_media(media)

    assert sent_tasks(route)[0][0]["media"] == media


def test_each_upload_gets_its_own_task_uuid_but_a_retry_reuses_it(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    respond = with_task_uuid(fixture("media_upload"))
    route = respx_mock.post(API_URL).mock(
        side_effect=[httpx.ConnectError("connection refused"), respond, respond]
    )

    client.upload_media(b"first")
    client.upload_media(b"second")

    first_try, first_retry, second = (tasks[0]["taskUUID"] for tasks in sent_tasks(route))
    assert first_try == first_retry != second


def test_upload_media_accepts_an_answer_that_does_not_echo_its_task_uuid(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(API_URL).respond(200, json=fixture("media_upload"))

    assert client.upload_media(b"video").media_uuid == "989ba605-1449-4e1e-b462-cd83ec9c1a67"


def test_upload_media_accepts_image_upload_fields_and_object_data(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    item = {"taskType": "imageUpload", "imageUUID": "989ba605-1449-4e1e-b462-cd83ec9c1a67"}
    respx_mock.post(API_URL).respond(200, json={"data": item})

    upload = client.upload_media("data:image/png;base64,iVBORw0KGgo=")

    assert (upload.media_uuid, upload.media_url) == ("989ba605-1449-4e1e-b462-cd83ec9c1a67", None)


def test_upload_media_without_a_media_uuid_in_the_answer_raises(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(API_URL).respond(
        200, json={"data": [{"taskType": "mediaStorage", "operation": "upload"}]}
    )

    with pytest.raises(RunwareError) as caught:
        client.upload_media(b"video")

    assert caught.value.code == "invalidResponse"


def test_upload_media_raises_the_error_runware_answered(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(API_URL).respond(400, json=error_body("invalidMedia", parameter="media"))

    with pytest.raises(RunwareError) as caught:
        client.upload_media(b"not a video")

    assert (caught.value.code, caught.value.parameter) == ("invalidMedia", "media")


def test_a_conflict_on_a_retried_upload_raises_because_the_media_uuid_is_lost(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    def conflict(request: httpx.Request) -> httpx.Response:
        task_uuid = json.loads(request.content)[0]["taskUUID"]
        return httpx.Response(400, json=error_body("conflictTaskUUID", taskUUID=task_uuid))

    respx_mock.post(API_URL).mock(side_effect=[httpx.ReadTimeout("read timed out"), conflict])

    with pytest.raises(RunwareError, match="upload the media again") as caught:
        client.upload_media(b"video")

    assert caught.value.code == "conflictTaskUUID"


# --- the key stays secret ---------------------------------------------------------------------------------


def test_the_api_key_never_shows_in_errors_reprs_or_logs(
    make_client: Callable[..., RunwareClient],
    respx_mock: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(max_retries=1)
    echoing = {"errors": [{"code": "invalidApiKey", "message": f"Invalid API key {API_KEY}"}]}
    route = respx_mock.post(API_URL)
    raised: list[Exception] = []

    for outcome in (
        httpx.Response(401, json=echoing),
        httpx.ConnectError(f"proxy refused Bearer {API_KEY}"),
        httpx.Response(503, json={"errors": [{"code": "serviceUnavailable", "message": API_KEY}]}),
        httpx.Response(404, text=f"no route for {API_KEY}"),
    ):
        route.mock(side_effect=[outcome, outcome])
        with pytest.raises((RunwareError, RunwareTransportError)) as caught:
            client.submit(video_task())
        raised.append(caught.value)

    assert len(raised) == 4
    for error in raised:
        assert API_KEY not in str(error) and API_KEY not in repr(error)
        assert API_KEY not in repr(vars(error))
    assert "[redacted]" in str(raised[0])
    assert API_KEY not in repr(client)
    assert caplog.records
    assert API_KEY not in caplog.text


def test_a_short_non_secret_key_is_not_redacted_from_messages(
    make_client: Callable[..., RunwareClient], respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(API_URL).respond(
        400, json=error_body("unsupportedParameter", message="the sandbox refused")
    )

    with pytest.raises(RunwareError, match="the sandbox refused"):
        make_client(api_key="sandbox").submit(video_task())


# --- the async client ------------------------------------------------------------------------------------


async def test_async_submit_posts_the_same_wire_format_and_returns_the_ack(
    async_client: AsyncRunwareClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(API_URL).respond(200, json=fixture("ack"))

    ack = await async_client.submit(video_task())

    assert ack == fixture("ack")["data"][0]
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert sent_tasks(route) == [[{**video_task(), "includeCost": True, "deliveryMethod": "async"}]]


async def test_async_submit_retries_with_the_same_body_and_awaits_the_backoff(
    async_client: AsyncRunwareClient, respx_mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = respx_mock.post(API_URL).mock(
        side_effect=[
            httpx.ConnectError("connection refused"),
            httpx.Response(503),
            httpx.Response(200, json=fixture("ack")),
        ]
    )

    await async_client.submit(video_task())

    assert len({call.request.content for call in route.calls}) == 1
    assert route.call_count == 3
    assert sleeps == [1.0, 2.0]


async def test_async_exhausted_retries_raise_a_transport_error(
    async_client: AsyncRunwareClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(API_URL).respond(504)

    with pytest.raises(RunwareTransportError) as caught:
        await async_client.submit(video_task())

    assert (caught.value.status_code, caught.value.attempts) == (504, 4)


async def test_async_conflict_on_a_retry_means_accepted_and_on_the_first_attempt_is_an_error(
    async_client: AsyncRunwareClient, respx_mock: respx.MockRouter
) -> None:
    conflict = httpx.Response(400, json=fixture("error_conflict"))
    respx_mock.post(API_URL).mock(side_effect=[httpx.ReadTimeout("read timed out"), conflict, conflict])

    assert await async_client.submit(video_task()) == {"taskType": "videoInference", "taskUUID": TASK_UUID}
    with pytest.raises(RunwareError, match="conflictTaskUUID"):
        await async_client.submit(video_task())


async def test_async_get_response_returns_every_item(
    async_client: AsyncRunwareClient, respx_mock: respx.MockRouter
) -> None:
    body = fixture("get_response_mixed")
    route = respx_mock.post(API_URL).respond(200, json=body)

    batch = await async_client.get_response(TASK_UUID)

    assert batch == ResponseBatch(data=body["data"], errors=body["errors"])
    assert sent_tasks(route) == [[{"taskType": "getResponse", "taskUUID": TASK_UUID}]]


async def test_async_get_response_raises_auth_errors(
    async_client: AsyncRunwareClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(API_URL).respond(401, json=fixture("error_invalid_api_key"))

    with pytest.raises(RunwareAuthError):
        await async_client.get_response(TASK_UUID)


async def test_async_upload_media_sends_base64_and_parses_the_media_uuid(
    async_client: AsyncRunwareClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(API_URL).mock(side_effect=with_task_uuid(fixture("media_upload")))

    upload = await async_client.upload_media(b"video")

    [[task]] = sent_tasks(route)
    assert task["media"] == base64.b64encode(b"video").decode()
    assert (upload.media_uuid, upload.task_uuid) == ("989ba605-1449-4e1e-b462-cd83ec9c1a67", task["taskUUID"])


async def test_async_from_settings_reads_the_runware_settings(
    settings: Any, respx_mock: respx.MockRouter
) -> None:
    settings.RUNWARE_API_URL = API_URL
    settings.RUNWARE_API_KEY = API_KEY
    route = respx_mock.post(API_URL).respond(200, json=fixture("ack"))

    async with AsyncRunwareClient.from_settings() as client:
        await client.submit(video_task())

    assert route.calls.last.request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert API_KEY not in repr(client)


async def test_a_closed_async_client_sends_nothing(async_client: AsyncRunwareClient) -> None:
    await async_client.close()

    with pytest.raises(RuntimeError):
        await async_client.submit(video_task())


# --- account management ---------------------------------------------------------------------------------


def test_account_details_read_the_balance_and_usage_of_the_documented_answer(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(API_URL).mock(side_effect=with_task_uuid(fixture("account_details")))

    details = client.account_details()

    (sent,) = sent_tasks(route)
    assert sent[0]["taskType"] == "accountManagement" and sent[0]["operation"] == "getDetails"
    assert uuid.UUID(sent[0]["taskUUID"]).version == 4
    assert details.balance == Decimal("2450.7500")
    assert details.usage["today"] == Decimal("12.2500") and details.usage["last30Days"] == Decimal("400.0000")


def test_usage_activity_sends_the_range_and_reads_the_days(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    from datetime import date

    body = {
        "data": [{"taskType": "accountManagement", "activity": [{"date": "2026-12-01", "credits": 0.03}]}]
    }
    route = respx_mock.post(API_URL).respond(200, json=body)

    activity = client.usage_activity(start=date(2026, 11, 25), end=date(2026, 12, 1))

    (sent,) = sent_tasks(route)
    assert (sent[0]["operation"], sent[0]["startDate"], sent[0]["endDate"]) == (
        "getUsageActivity",
        "2026-11-25",
        "2026-12-01",
    )
    assert [(day.day.isoformat(), day.amount) for day in activity.days] == [("2026-12-01", Decimal("0.0300"))]


def test_an_unsupported_account_operation_is_raised_as_runwares_error(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    from datetime import date

    respx_mock.post(API_URL).respond(400, json=error_body("unsupportedOperation", parameter="operation"))

    with pytest.raises(RunwareError) as caught:
        client.usage_activity(start=date(2026, 12, 1), end=date(2026, 12, 1))
    assert (caught.value.code, caught.value.parameter) == ("unsupportedOperation", "operation")


def test_an_account_answer_without_any_item_is_unusable(
    client: RunwareClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(API_URL).respond(200, json={"data": []})

    with pytest.raises(RunwareError) as caught:
        client.account_details()
    assert caught.value.code == "invalidResponse"
