"""The delivery log pages: the list with outcomes and refusals, the raw body, Replay."""

from django.urls import reverse

from animate.models import AuditEvent, WebhookEvent, WebhookRejection
from animate.services import deliveries


def _event(generation):
    body = {
        "data": [
            {"taskType": "videoInference", "taskUUID": str(generation.task_uuid), "status": "processing"}
        ]
    }
    return WebhookEvent.objects.create(generation=generation, body=body, remote_addr="203.0.113.5")


def test_the_log_lists_deliveries_with_their_outcome_and_refusals(client, admin, hooked_generation):
    generation, _ = hooked_generation()
    event = _event(generation)
    deliveries.delivery_rejected(generation_id=generation.pk, status=403)
    client.force_login(admin)

    html = client.get(reverse("deliveries")).content.decode()

    assert f'data-delivery-id="{event.pk}"' in html and "Verified (secret and taskUUID)" in html
    assert "taskUUID of another task" in html
    assert (
        client.get(reverse("deliveries"), {"status": "processed"}).content.decode().count("data-delivery-id")
        == 0
    )


def test_the_raw_body_is_shown_and_replay_goes_through_the_same_path(client, admin, hooked_generation):
    generation, _ = hooked_generation()
    event = _event(generation)
    client.force_login(admin)

    detail = client.get(reverse("delivery-detail", args=[event.pk])).content.decode()
    response = client.post(reverse("delivery-replay", args=[event.pk]))

    assert "&quot;status&quot;: &quot;processing&quot;" in detail and "203.0.113.5" in detail
    replay = WebhookEvent.objects.exclude(pk=event.pk).get()
    assert response["Location"] == reverse("delivery-detail", args=[replay.pk])
    assert replay.replay_of_id == event.pk and AuditEvent.objects.filter(action="webhook_replayed").exists()


def test_another_teams_delivery_is_a_404_like_a_missing_one(client, outsider, hooked_generation):
    generation, _ = hooked_generation()
    event = _event(generation)
    client.force_login(outsider)

    assert client.get(reverse("delivery-detail", args=[event.pk])).status_code == 404
    assert client.post(reverse("delivery-replay", args=[event.pk])).status_code == 404
    assert client.get(reverse("delivery-detail", args=[999999])).status_code == 404
    assert WebhookEvent.objects.count() == 1 and not WebhookRejection.objects.exists()
