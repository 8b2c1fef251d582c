import json
import uuid

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from animate.models import WebhookEvent
from animate.services import generations


@pytest.fixture
def generation(hooked_generation):
    generation, generation.secret = hooked_generation()
    return generation


def _url(generation, secret):
    return reverse("runware-webhook", kwargs={"generation_id": generation.pk, "secret": secret})


def _body(task_uuid, **extra):
    item = {
        "taskType": "videoInference",
        "taskUUID": str(task_uuid),
        "status": "success",
        "videoUUID": str(uuid.uuid4()),
        "videoURL": "https://im.runware.ai/video/x.mp4",
        "cost": 0.01,
    }
    item.update(extra)
    return json.dumps({"data": [item]})


def _post(client, url, body):
    return client.post(url, data=body, content_type="application/json")


def test_an_authentic_webhook_is_stored_and_answered_at_once(
    client, generation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, _url(generation, generation.secret), _body(generation.task_uuid))
    assert response.status_code == 202
    event = WebhookEvent.objects.get()
    assert event.generation_id == generation.pk and event.status == WebhookEvent.Status.RECEIVED
    assert DBTaskResult.objects.get().task_path.endswith("process_webhook_events")
    generation.refresh_from_db()
    assert generation.status == "submitted"  # processing happens in the background


def test_a_bare_result_object_is_accepted_too(client, generation):
    body = json.loads(_body(generation.task_uuid))["data"][0]
    assert _post(client, _url(generation, generation.secret), json.dumps(body)).status_code == 202


@pytest.mark.parametrize("secret", ["wrong-secret", "", "x" * 43])
def test_a_forged_secret_is_rejected_and_changes_nothing(client, generation, secret):
    url = f"/hooks/runware/{generation.pk}/{secret or 'none'}/"
    response = _post(client, url, _body(generation.task_uuid))
    assert response.status_code == 404
    assert not WebhookEvent.objects.exists()
    generation.refresh_from_db()
    assert generation.status == "submitted"


def test_the_secret_of_another_generation_is_rejected(client, generation, hooked_generation):
    other, other_secret = hooked_generation()
    assert _post(client, _url(other, generation.secret), _body(other.task_uuid)).status_code == 404
    response = _post(client, _url(generation, other_secret), _body(generation.task_uuid))
    assert response.status_code == 404
    assert not WebhookEvent.objects.exists()


def test_a_task_uuid_of_another_generation_is_rejected(client, generation):
    response = _post(client, _url(generation, generation.secret), _body(uuid.uuid4()))
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "body", ["{not json", "[]", "42", json.dumps({"data": []}), json.dumps({"data": [{"x": 1}]})]
)
def test_malformed_bodies_are_rejected(client, generation, body):
    assert _post(client, _url(generation, generation.secret), body).status_code == 400
    assert not WebhookEvent.objects.exists()


def test_an_oversized_body_is_rejected(client, generation, settings):
    settings.ANIMATE_WEBHOOK_MAX_BYTES = 1024
    body = _body(generation.task_uuid, padding="x" * 2048)
    assert _post(client, _url(generation, generation.secret), body).status_code == 413
    assert not WebhookEvent.objects.exists()


def test_every_secret_issued_for_a_generation_stays_valid(client, generation):
    second_secret, second_digest = generations.webhook_secret_new()
    generation.webhook_secret_hashes = [*generation.webhook_secret_hashes, second_digest]
    generation.save(update_fields=["webhook_secret_hashes"])
    for secret in (generation.secret, second_secret):
        assert _post(client, _url(generation, secret), _body(generation.task_uuid)).status_code == 202
    assert WebhookEvent.objects.count() == 2


def test_a_body_with_nan_is_rejected(client, generation):
    body = _body(generation.task_uuid).replace("0.01", "NaN")
    assert _post(client, _url(generation, generation.secret), body).status_code == 400
    assert not WebhookEvent.objects.exists()


def test_only_post_is_allowed(client, generation):
    response = client.get(_url(generation, generation.secret))
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert response.json() == {"error": "Webhooks are POSTed."}
    assert not WebhookEvent.objects.exists()


def test_refused_deliveries_are_counted_per_generation_and_reason_without_their_bodies(
    client, generation, hooked_generation, settings
):
    from animate.models import WebhookRejection

    settings.ANIMATE_WEBHOOK_MAX_BYTES = 1024
    url = _url(generation, generation.secret)
    _post(client, _url(generation, "wrong-secret"), _body(generation.task_uuid))
    _post(client, _url(generation, "also-wrong"), _body(generation.task_uuid))
    _post(client, url, _body(uuid.uuid4()))
    _post(client, url, _body(generation.task_uuid, padding="x" * 2048))
    _post(client, url, "{not json")
    _post(client, "/hooks/runware/999999/whatever/", _body(generation.task_uuid))  # no such generation

    counts = dict(WebhookRejection.objects.filter(generation=generation).values_list("reason", "count"))
    assert counts == {"secret": 2, "foreign_task": 1, "oversize": 1, "malformed": 1}
    assert WebhookRejection.objects.count() == 4 and not WebhookEvent.objects.exists()
    other, _ = hooked_generation()
    assert not WebhookRejection.objects.filter(generation=other).exists()
