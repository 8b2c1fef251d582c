"""Webhook bodies stored, then applied in arrival order (animate/services/webhook_events.py)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from animate.models import Output, WebhookEvent
from animate.services import ingest, webhook_events
from tests.ingestkit import error_body, status_item, stored_event, success

pytestmark = pytest.mark.django_db


def test_webhook_events_of_a_generation_are_applied_in_arrival_order(generation, video_b64):
    first = stored_event(generation, {"data": [success(generation, video_b64).raw]})
    second = stored_event(generation, error_body(generation, "after"))
    assert webhook_events.webhook_events_drain(generation_id=generation.pk) == "drained"
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("processed", "processed")
    assert first.processed_at <= second.processed_at
    generation.refresh_from_db()
    # One result and one error of two: done with the result that arrived, the error shown.
    assert generation.is_partial and generation.outputs.count() == 1


def test_a_drain_leaves_bodies_to_a_run_that_is_applying_one_and_comes_back_for_them(generation, settings):

    applying = stored_event(generation, {"data": []}, status="processing", started_at=timezone.now())
    waiting = stored_event(generation, {"data": [status_item(generation, "processing").raw]})
    assert webhook_events.webhook_events_drain(generation_id=generation.pk) == "busy"
    waiting.refresh_from_db()
    assert waiting.status == "received"
    # The other run may stop without seeing it: this one is queued again, shortly, and stays the queued one.
    again = DBTaskResult.objects.get()
    assert again.args_kwargs["args"] == [generation.pk] and again.run_after > timezone.now()
    generation.refresh_from_db()
    assert generation.webhook_drain_queued
    WebhookEvent.objects.filter(pk=applying.pk).update(status="processed")
    assert webhook_events.webhook_events_drain(generation_id=generation.pk) == "drained"
    waiting.refresh_from_db()
    assert waiting.status == "processed"


def test_an_event_stuck_in_processing_stops_blocking_after_the_claim_expires(generation, settings):
    settings.ANIMATE_WEBHOOK_CLAIM_SECONDS = 60
    stored_event(
        generation, {"data": []}, status="processing", started_at=timezone.now() - timedelta(minutes=5)
    )
    stored_event(generation, {"data": [status_item(generation, "processing").raw]})
    assert webhook_events.webhook_events_drain(generation_id=generation.pk) == "drained"
    generation.refresh_from_db()
    assert generation.status == "processing"


def test_a_drain_yields_after_its_batch_and_queues_the_rest_behind_other_work(
    generation, settings, django_capture_on_commit_callbacks
):

    settings.ANIMATE_WEBHOOK_DRAIN_BATCH = 3
    for _ in range(5):
        stored_event(generation, {"data": [status_item(generation, "processing").raw]})
    assert webhook_events.webhook_events_drain(generation_id=generation.pk) == "yielded"
    assert WebhookEvent.objects.filter(status="received").count() == 2
    generation.refresh_from_db()
    assert generation.webhook_drain_queued
    assert DBTaskResult.objects.get().args_kwargs["args"] == [generation.pk]
    assert webhook_events.webhook_events_drain(generation_id=generation.pk) == "drained"
    assert not WebhookEvent.objects.filter(status="received").exists()


def test_a_body_that_fails_is_marked_failed_and_the_next_one_still_gets_its_turn(
    generation, video_b64, monkeypatch
):
    broken = stored_event(generation, {"data": [status_item(generation, "processing").raw]})
    after = stored_event(generation, {"data": [success(generation, video_b64).raw]})
    real = ingest.results_apply

    def fails_once(**kwargs):
        monkeypatch.setattr(ingest, "results_apply", real)
        raise RuntimeError("database went away")

    monkeypatch.setattr(ingest, "results_apply", fails_once)
    assert webhook_events.webhook_events_drain(generation_id=generation.pk) == "drained"
    broken.refresh_from_db()
    after.refresh_from_db()
    assert (broken.status, after.status) == ("failed", "processed")
    assert broken.detail == "RuntimeError: database went away"


def test_a_processed_event_is_never_applied_twice(generation, video_b64):
    event = stored_event(generation, {"data": [success(generation, video_b64).raw]})
    webhook_events.webhook_event_apply(event=event)
    summary = webhook_events.webhook_event_apply(event=event)
    assert summary.outputs_created == 0 and Output.objects.count() == 1


def test_an_identical_body_is_counted_on_its_first_copy_and_queues_nothing(hooked_generation):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    generation, secret = hooked_generation()
    body = json.dumps({"data": [status_item(generation, "processing").raw]}).encode()
    first = webhook_events.webhook_receive(
        generation_id=generation.pk, secret=secret, body=body, remote_addr=None
    )
    # Key order and spacing do not make a body new.
    again = json.dumps(json.loads(body), indent=2, sort_keys=True).encode()
    with CaptureQueriesContext(connection) as queries:
        replay = webhook_events.webhook_receive(
            generation_id=generation.pk, secret=secret, body=again, remote_addr=None
        )
    statements = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]
    # The generation; the insert the unique index refuses; the live copy's indexed lookup; its counter.
    assert [sql.split()[0] for sql in statements] == ["SELECT", "INSERT", "SELECT", "UPDATE"]
    assert "django_tasks" not in " ".join(statements)
    assert (first.duplicate, replay.duplicate, replay.event_id) == (False, True, first.event_id)
    event = WebhookEvent.objects.get()
    assert event.duplicates == 1 and event.last_duplicate_at is not None
    assert DBTaskResult.objects.count() == 1


def test_a_replay_of_a_body_whose_processing_failed_is_stored_and_applied_again(hooked_generation):
    generation, secret = hooked_generation()
    body = json.dumps({"data": [status_item(generation, "processing").raw]}).encode()
    first = webhook_events.webhook_receive(
        generation_id=generation.pk, secret=secret, body=body, remote_addr=None
    )
    WebhookEvent.objects.filter(pk=first.event_id).update(status="failed")
    replay = webhook_events.webhook_receive(
        generation_id=generation.pk, secret=secret, body=body, remote_addr=None
    )
    assert not replay.duplicate and replay.event_id != first.event_id


def test_a_burst_of_bodies_queues_one_task_for_the_generation(hooked_generation):

    generation, secret = hooked_generation()
    for n in range(5):
        body = json.dumps({"data": [status_item(generation, "processing", progress=n).raw]}).encode()
        webhook_events.webhook_receive(
            generation_id=generation.pk, secret=secret, body=body, remote_addr=None
        )
    assert WebhookEvent.objects.count() == 5 and DBTaskResult.objects.count() == 1
