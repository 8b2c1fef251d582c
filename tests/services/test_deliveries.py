"""The delivery log: refused deliveries counted, facts of each delivery, replays through the same path."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from animate.models import AuditEvent, CostEntry, Membership, WebhookEvent, WebhookRejection
from animate.services import deliveries, webhook_events


@pytest.fixture
def generation(hooked_generation):
    generation, _ = hooked_generation()
    return generation


def _event(generation, **fields):
    body = {
        "data": [
            {
                "taskType": "videoInference",
                "taskUUID": str(generation.task_uuid),
                "status": "error",
                "code": "inferenceError",
                "message": "no",
                "cost": 0.02,
            }
        ]
    }
    return WebhookEvent.objects.create(generation=generation, body=body, **fields)


def test_each_refusal_adds_one_to_its_reason(generation):
    for status in (404, 404, 403, 413, 400, 500):
        deliveries.delivery_rejected(generation_id=generation.pk, status=status)

    assert dict(WebhookRejection.objects.values_list("reason", "count")) == {
        "secret": 2,
        "foreign_task": 1,
        "oversize": 1,
        "malformed": 1,
    }


def test_a_refusal_for_an_unknown_generation_counts_nothing(db):
    deliveries.delivery_rejected(generation_id=424242, status=404)
    assert not WebhookRejection.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refusals_are_all_counted(generation):
    def refuse():
        try:
            deliveries.delivery_rejected(generation_id=generation.pk, status=404)
        finally:
            connection.close()

    threads = [threading.Thread(target=refuse) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert WebhookRejection.objects.get().count == 8


def test_the_facts_of_a_delivery_say_how_long_after_submit_it_came_and_how_long_it_took(generation):
    generation.submitted_at = timezone.now() - timedelta(seconds=42)
    generation.save()
    event = _event(generation)
    event.started_at = event.received_at
    event.processed_at = event.received_at + timedelta(milliseconds=250)

    facts = deliveries.delivery_facts(event)

    assert 41 < facts.latency_seconds < 44 and facts.processing_ms == 250
    assert facts.verification == "Verified (secret and taskUUID)"


def test_a_replay_stores_the_body_again_queues_it_and_is_audited(generation, team, admin):
    original = _event(generation)
    membership = Membership.objects.get(user=admin)

    replay = deliveries.delivery_replay(
        membership=membership, event_id=original.pk, actor=admin, ip="192.0.2.1"
    )

    assert (replay.body, replay.replay_of_id, replay.replayed_by_id) == (original.body, original.pk, admin.pk)
    task = DBTaskResult.objects.get(task_path__endswith="process_webhook_events")
    assert task.args_kwargs["args"] == [generation.pk]
    audit = AuditEvent.objects.get(action="webhook_replayed")
    assert (audit.target_id, audit.detail["replay"], audit.ip) == (str(original.pk), replay.pk, "192.0.2.1")
    assert deliveries.delivery_facts(replay).verification == "Replayed by an admin"


def test_a_replay_changes_nothing_already_applied(generation, team, admin):
    original = _event(generation)
    membership = Membership.objects.get(user=admin)
    webhook_events.webhook_event_apply(event=original)
    generation.refresh_from_db()
    before = (generation.status, generation.actual_cost, CostEntry.objects.count())

    replay = deliveries.delivery_replay(membership=membership, event_id=original.pk, actor=admin)
    summary = webhook_events.webhook_event_apply(event=replay)

    generation.refresh_from_db()
    assert before == ("failed", Decimal("0.0200"), 1)
    assert (generation.status, generation.actual_cost, CostEntry.objects.count()) == before
    replay.refresh_from_db()
    assert summary is not None and replay.status in {"processed", "ignored"}


def test_only_the_teams_admins_replay_and_another_teams_delivery_is_not_found(
    generation, admin, member, outsider
):
    original = _event(generation)
    with pytest.raises(PermissionError):
        deliveries.delivery_replay(
            membership=Membership.objects.get(user=member), event_id=original.pk, actor=member
        )
    with pytest.raises(deliveries.DeliveryNotFound):
        deliveries.delivery_replay(
            membership=Membership.objects.get(user=outsider), event_id=original.pk, actor=outsider
        )
    with pytest.raises(deliveries.DeliveryNotFound):
        deliveries.delivery_get(membership=Membership.objects.get(user=admin), event_id="x")
    assert WebhookEvent.objects.count() == 1


def test_the_log_lists_only_the_teams_deliveries(generation, admin, outsider):
    _event(generation)
    assert deliveries.deliveries_for(Membership.objects.get(user=admin)).count() == 1
    assert deliveries.deliveries_for(Membership.objects.get(user=outsider)).count() == 0
