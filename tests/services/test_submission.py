import json
import socket
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
import respx
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from animate import tasks
from animate.models import Generation
from animate.services import submission

API = "https://api.runware.test/v1"


@pytest.fixture(autouse=True)
def _runware(settings):
    settings.RUNWARE_API_URL = API
    settings.RUNWARE_API_KEY = "a-test-key-that-is-long"
    settings.RUNWARE_BACKOFF_BASE = 0.0
    settings.RUNWARE_MAX_RETRIES = 0
    settings.PUBLIC_BASE_URL = "https://studio.example.com"
    settings.PUBLIC_BASE_URL_REACHABLE = True


@pytest.fixture
def generation(team, member, image_asset, video_asset):
    return Generation.objects.create(
        team=team,
        created_by=member,
        image=image_asset,
        video=video_asset,
        parameters={"resolution": "480p"},
        estimated_cost=Decimal("0.0100"),
    )


def _ack(request):
    task = json.loads(request.content)[0]
    return httpx.Response(200, json={"data": [{"taskType": task["taskType"], "taskUUID": task["taskUUID"]}]})


def _error(code, task_uuid, status=400):
    return httpx.Response(
        status, json={"errors": [{"code": code, "message": f"{code} happened", "taskUUID": task_uuid}]}
    )


@respx.mock
def test_a_queued_generation_is_sent_once_with_its_task_uuid_and_becomes_submitted(generation):
    route = respx.post(API).mock(side_effect=_ack)
    assert submission.generation_submit(generation_id=generation.pk) == "submitted"
    sent = json.loads(route.calls.last.request.content)[0]
    assert sent["taskUUID"] == str(generation.task_uuid) and sent["includeCost"] is True
    assert sent["webhookURL"].startswith(f"https://studio.example.com/hooks/runware/{generation.pk}/")
    assert sent["inputs"]["referenceVideos"][0].startswith("https://studio.example.com/m/signed/")
    generation.refresh_from_db()
    assert generation.status == "submitted" and generation.submit_started_at is None
    assert len(generation.webhook_secret_hashes) == 1
    poll = DBTaskResult.objects.get(task_path=tasks.poll_generation.module_path)
    assert poll.args_kwargs["args"] == [generation.pk, 0]
    assert submission.generation_submit(generation_id=generation.pk) == "skipped"
    assert route.call_count == 1


@respx.mock
def test_a_re_run_answered_conflict_for_its_own_task_counts_as_accepted_and_keeps_both_secrets(generation):
    Generation.objects.filter(pk=generation.pk).update(submit_attempts=1, webhook_secret_hashes=["0" * 64])
    respx.post(API).mock(return_value=_error("conflictTaskUUID", str(generation.task_uuid)))
    assert submission.generation_submit(generation_id=generation.pk) == "submitted"
    generation.refresh_from_db()
    assert generation.status == "submitted" and len(generation.webhook_secret_hashes) == 2
    assert generation.webhook_secret_hashes[0] == "0" * 64  # the URL an earlier attempt sent stays valid


@respx.mock
def test_a_conflict_on_the_first_attempt_or_for_another_task_fails_the_generation(generation):
    respx.post(API).mock(return_value=_error("conflictTaskUUID", "11111111-1111-4111-8111-111111111111"))
    Generation.objects.filter(pk=generation.pk).update(submit_attempts=1)
    assert submission.generation_submit(generation_id=generation.pk) == "failed"
    generation.refresh_from_db()
    assert (generation.status, generation.error_code) == ("failed", "conflictTaskUUID")


@respx.mock
def test_a_provider_error_fails_with_the_providers_message(generation):
    respx.post(API).mock(return_value=_error("insufficientCredits", str(generation.task_uuid), status=402))
    assert submission.generation_submit(generation_id=generation.pk) == "failed"
    generation.refresh_from_db()
    assert generation.error_message == "insufficientCredits happened"


@respx.mock
def test_an_unreachable_provider_is_retried_later_then_given_up(generation, settings):
    settings.ANIMATE_MAX_SUBMIT_ATTEMPTS = 2
    respx.post(API).mock(side_effect=httpx.ConnectError("refused"))
    assert submission.generation_submit(generation_id=generation.pk) == "retry"
    generation.refresh_from_db()
    assert generation.status == "queued" and generation.submit_started_at is None
    retry = DBTaskResult.objects.get(task_path=tasks.submit_generation.module_path)
    assert retry.run_after > timezone.now()
    assert submission.generation_submit(generation_id=generation.pk) == "failed"
    generation.refresh_from_db()
    assert generation.error_code == "unreachable"


def test_a_second_run_while_one_is_sending_waits_for_the_lease(generation):
    Generation.objects.filter(pk=generation.pk).update(submit_started_at=timezone.now())
    assert submission.generation_submit(generation_id=generation.pk) == "busy"
    later = DBTaskResult.objects.get(task_path=tasks.submit_generation.module_path)
    assert later.run_after > timezone.now() + timedelta(seconds=60)
    generation.refresh_from_db()
    assert generation.submit_attempts == 0 and generation.webhook_secret_hashes == []


def test_an_unexpected_failure_still_ends_the_generation_with_a_reason(generation, monkeypatch):
    def broken(*args, **kwargs):
        raise FileNotFoundError("teams/1/assets/gone.mp4")

    monkeypatch.setattr(submission, "_task_for", broken)
    assert submission.generation_submit(generation_id=generation.pk) == "failed"
    generation.refresh_from_db()
    assert (generation.status, generation.error_code) == ("failed", "internalError")
    assert "FileNotFoundError" in generation.error_message


@respx.mock
def test_without_a_reachable_url_inputs_are_uploaded_and_no_webhook_is_given(generation, settings):
    settings.PUBLIC_BASE_URL_REACHABLE = False
    uploads = []

    def answer(request):
        task = json.loads(request.content)[0]
        if task["taskType"] == "mediaStorage":
            uploads.append(task)
            return httpx.Response(
                200,
                json={
                    "data": [
                        {
                            "taskType": "mediaStorage",
                            "taskUUID": task["taskUUID"],
                            "mediaUUID": f"00000000-0000-4000-8000-00000000000{len(uploads)}",
                        }
                    ]
                },
            )
        return _ack(request)

    route = respx.post(API).mock(side_effect=answer)
    assert submission.generation_submit(generation_id=generation.pk) == "submitted"
    sent = json.loads(route.calls.last.request.content)[0]
    assert "webhookURL" not in sent and len(uploads) == 2
    assert sent["inputs"]["referenceImages"] == ["00000000-0000-4000-8000-000000000001"]


def test_an_input_too_large_to_upload_fails_with_a_clear_reason(generation, settings):
    settings.PUBLIC_BASE_URL_REACHABLE = False
    settings.ANIMATE_MEDIA_STORAGE_MAX_BYTES = 10
    assert submission.generation_submit(generation_id=generation.pk) == "failed"
    generation.refresh_from_db()
    assert generation.error_code == "inputTooLarge" and "PUBLIC_BASE_URL" in generation.error_message


def test_the_stored_task_hides_the_webhook_secret_and_signed_tokens():
    task = {
        "webhookURL": "https://s.example/hooks/runware/5/SECRET/",
        "inputs": {
            "referenceImages": ["https://s.example/m/signed/TOKEN/image.png"],
            "referenceVideos": ["uuid"],
        },
    }
    clean = submission._redacted(task)
    assert "SECRET" not in json.dumps(clean) and "TOKEN" not in json.dumps(clean)
    assert clean["inputs"]["referenceVideos"] == ["uuid"]


@respx.mock
def test_a_lease_whose_holder_died_is_taken_over_at_once(generation):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(30)
    Generation.objects.filter(pk=generation.pk).update(
        submit_started_at=timezone.now(), submit_lease_owner=f"{socket.gethostname()}:{dead.pid}:0a1b2c3d4e5f"
    )
    respx.post(API).mock(side_effect=_ack)
    assert submission.generation_submit(generation_id=generation.pk) == "submitted"


def test_a_lease_of_a_live_holder_is_waited_out(generation):
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        Generation.objects.filter(pk=generation.pk).update(
            submit_started_at=timezone.now(),
            submit_lease_owner=f"{socket.gethostname()}:{alive.pid}:0a1b2c3d4e5f",
        )
        assert submission.generation_submit(generation_id=generation.pk) == "busy"
    finally:
        alive.kill()
        alive.wait(30)
