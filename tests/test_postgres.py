"""Concurrency that only a real server database shows: row locks and unique keys under parallel writers."""

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection

from animate.models import CostEntry, Generation, Output
from animate.runware.spec import VideoResult
from animate.services import ingest, webhook_events
from animate.services.generations import generation_transition
from tests.livehelpers import fast_settings, submit, wait_terminal

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _in_threads(target, count=4):
    errors = []

    def run():
        try:
            target()
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


def test_parallel_replays_of_one_result_record_its_cost_once(team, member, image_asset, video_asset):
    assert connection.vendor == "postgresql"
    generation = Generation.objects.create(
        team=team,
        created_by=member,
        image=image_asset,
        video=video_asset,
        status="processing",
        estimated_cost=Decimal("0.0100"),
    )
    video_uuid = uuid.uuid4()
    output = Output.objects.create(
        team=team,
        generation=generation,
        video_uuid=video_uuid,
        file="x.mp4",
        sha256="0" * 64,
        size=1,
        content_type="video/mp4",
        width=480,
        height=832,
        fps=8,
        frames=8,
        duration=1,
        codec="h264",
        container="mp4",
        cost=Decimal("0.0100"),
    )
    result = VideoResult(
        task_type="videoInference",
        task_uuid=str(generation.task_uuid),
        status="success",
        video_uuid=str(video_uuid),
        video_url=None,
        video_base64_data=None,
        video_data_uri=None,
        seed=1,
        nsfw_content=False,
        cost=Decimal("0.0100"),
        error_code=None,
        error_message=None,
        raw={},
    )
    errors = _in_threads(
        lambda: ingest.result_ingest(generation_id=generation.pk, result=result),
        count=6,
    )
    assert errors == []
    generation.refresh_from_db()
    entry = CostEntry.objects.get()
    assert (entry.generation_id, entry.video_uuid) == (output.generation_id, output.video_uuid)
    assert generation.actual_cost == Decimal("0.0100") and generation.status == "done"


def test_racing_terminal_transitions_have_exactly_one_winner(team, member, image_asset, video_asset):
    from django.db import transaction

    generation = Generation.objects.create(
        team=team, created_by=member, image=image_asset, video=video_asset, status="processing"
    )
    wins = []

    def move(status):
        def run():
            with transaction.atomic():
                locked = Generation.objects.select_for_update().get(pk=generation.pk)
                if generation_transition(locked, status):
                    wins.append(status)

        return run

    threads = [threading.Thread(target=move(s)) for s in ("done", "failed", "done", "failed")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    generation.refresh_from_db()
    assert len(wins) == 1 and generation.status == wins[0]


@pytest.mark.timeout(120)
def test_a_whole_generation_completes_on_postgresql(live_server, settings, member, image_asset, video_asset):
    fast_settings(settings)
    generation = wait_terminal(
        submit(member, image_asset, video_asset, positivePrompt="x [sandbox:duplicate=3]")
    )
    assert generation.status == "done"
    assert CostEntry.objects.count() == 1 and Output.objects.count() == 1


def test_a_body_stored_while_a_drain_claims_is_never_left_without_a_run(
    team, member, image_asset, video_asset
):
    """The store holds the generation's row until it commits, so a claim running meanwhile waits and
    then sees the body; without that, the claim could read the bodies just before the store commits and
    lower the flag just after, leaving a stored body that no run would ever apply."""
    from django.db import transaction
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from animate import tasks
    from animate.models import WebhookEvent

    generation = Generation.objects.create(
        team=team,
        created_by=member,
        image=image_asset,
        video=video_asset,
        status="processing",
        webhook_drain_queued=True,  # a drain is queued: the store queues none and relies on it
    )
    stored, commit = threading.Event(), threading.Event()
    claimed: list[list[int]] = []

    def store():
        with transaction.atomic():
            WebhookEvent.objects.create(generation=generation, body={"data": []}, body_sha256="a" * 64)
            webhook_events.webhook_drain_schedule(generation.pk)
            stored.set()
            commit.wait(10)

    def claim():
        stored.wait(10)
        batch = webhook_events._claim_batch(generation.pk, limit=20)
        claimed.append([event.pk for event in batch or []])

    threads = [threading.Thread(target=store), threading.Thread(target=claim)]
    for thread in threads:
        thread.start()
    stored.wait(10)
    # The claim has had every chance to run ahead of the commit (a pause, not an assertion).
    threading.Event().wait(0.5)
    commit.set()
    for thread in threads:
        thread.join(30)
    event = WebhookEvent.objects.get(generation=generation)
    generation.refresh_from_db()
    queued = DBTaskResult.objects.filter(
        task_path=tasks.process_webhook_events.module_path, status=TaskResultStatus.READY
    ).exists()
    assert claimed == [[event.pk]] or (generation.webhook_drain_queued and queued)


def test_workers_arming_the_daily_reconciliation_together_queue_it_once():
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from animate import tasks
    from animate.services import reconcile

    start = threading.Barrier(4)

    def arm():
        start.wait(10)
        reconcile.reconcile_schedule_next()

    assert _in_threads(arm, count=4) == []
    waiting = DBTaskResult.objects.filter(
        task_path=tasks.reconcile_daily.module_path, status=TaskResultStatus.READY
    )
    assert waiting.count() == 1
