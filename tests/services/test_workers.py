"""Worker processes: heartbeats, guarded status moves, handing a task back, taking over from lost ones."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from animate import tasks
from animate.models import Generation, ResultFetch, WorkerProcess
from animate.services import leases, workers


@pytest.fixture
def generation(db, team, member, image_asset, video_asset) -> Generation:
    return Generation.objects.create(
        team=team, created_by=member, image=image_asset, video=video_asset, status="processing"
    )


def _running(task, generation_id: int, worker_id: str) -> DBTaskResult:
    result = DBTaskResult.objects.get(id=task.enqueue(generation_id).id)
    result.claim(worker_id)
    return result


def test_a_beat_records_the_task_and_fails_once_the_worker_is_lost(db):
    workers.worker_register("w-1")
    assert workers.worker_beat("w-1", task_id="t-1", tasks_done=3)
    row = WorkerProcess.objects.get(worker_id="w-1")
    assert (row.status, row.task_id, row.tasks_done) == ("running", "t-1", 3)
    assert workers.worker_transition("w-1", "lost")
    assert not workers.worker_beat("w-1", task_id="", tasks_done=4)  # its work was given away


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (["stopping", "stopped"], [True, True]),
        (["stopped", "running"], [True, False]),
        (["lost", "stopping"], [True, False]),
        (["stopping", "running"], [True, False]),
    ],
)
def test_statuses_only_move_forward(db, path, allowed):
    workers.worker_register("w-1")
    assert [workers.worker_transition("w-1", status) for status in path] == allowed
    row = WorkerProcess.objects.get(worker_id="w-1")
    assert (row.stopped_at is not None) == (row.status in ("stopped", "lost"))


def test_only_workers_silent_past_the_lease_count_as_alive_no_more(db, settings):
    settings.ANIMATE_WORKER_LEASE_SECONDS = 30
    workers.worker_register("fresh")
    workers.worker_register("silent")
    WorkerProcess.objects.filter(worker_id="silent").update(beat_at=timezone.now() - timedelta(seconds=31))
    assert [w.worker_id for w in workers.workers_alive()] == ["fresh"]


def test_a_lost_workers_tasks_are_failed_and_its_generations_rearmed_once(db, settings, generation):
    settings.ANIMATE_WORKER_LEASE_SECONDS = 30
    workers.worker_register("dead")
    workers.worker_register("alive")
    dead_task = _running(tasks.poll_generation, generation.pk, "dead")
    alive_task = _running(tasks.process_webhook_events, generation.pk, "alive")
    WorkerProcess.objects.filter(worker_id="dead").update(beat_at=timezone.now() - timedelta(seconds=60))

    summary = workers.workers_reap()

    assert summary.workers == ("dead",) and summary.tasks == 1
    dead_task.refresh_from_db()
    alive_task.refresh_from_db()
    assert dead_task.status == TaskResultStatus.FAILED
    assert alive_task.status == TaskResultStatus.RUNNING  # a live worker's task is left alone
    assert WorkerProcess.objects.get(worker_id="dead").status == "lost"
    # The generation lost its poll with the dead worker: it gets a new one, ready at once.
    polls = DBTaskResult.objects.filter(
        task_path=tasks.poll_generation.module_path, status=TaskResultStatus.READY
    )
    assert [p.args_kwargs["args"][0] for p in polls] == [generation.pk]
    # A second worker noticing the same silence finds nothing left to take over.
    assert workers.workers_reap() == workers.ReapSummary()


def test_a_handed_back_task_is_ready_again_and_the_submit_lease_released(db, generation):
    workers.worker_register("me")
    mine = _running(tasks.submit_generation, generation.pk, "me")
    theirs = _running(tasks.poll_generation, generation.pk, "someone-else")
    Generation.objects.filter(pk=generation.pk).update(
        submit_started_at=timezone.now(), submit_lease_owner=leases.lease_owner()
    )

    assert workers.task_hand_back(worker_id="me", task_id=str(mine.id))
    assert not workers.task_hand_back(worker_id="me", task_id=str(theirs.id))

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, mine.started_at) == (TaskResultStatus.READY, None)
    assert theirs.status == TaskResultStatus.RUNNING
    assert Generation.objects.get(pk=generation.pk).submit_started_at is None


def test_a_handed_back_drain_gives_back_the_bodies_it_claimed(db, generation):
    from animate.models import WebhookEvent

    workers.worker_register("me")
    drain = _running(tasks.process_webhook_events, generation.pk, "me")
    claimed = WebhookEvent.objects.create(
        generation=generation,
        body={"data": []},
        body_sha256="b" * 64,
        status="processing",
        started_at=timezone.now(),
    )
    assert workers.task_hand_back(worker_id="me", task_id=str(drain.id))
    claimed.refresh_from_db()
    assert (claimed.status, claimed.started_at) == ("received", None)


def test_the_fetches_a_lost_worker_had_in_flight_are_released_and_others_kept(db, settings, generation):
    settings.ANIMATE_WORKER_LEASE_SECONDS = 30
    workers.worker_register("dead")
    WorkerProcess.objects.filter(worker_id="dead").update(
        pid=4242, beat_at=timezone.now() - timedelta(seconds=60)
    )
    dead = WorkerProcess.objects.get(worker_id="dead")
    now = timezone.now()
    ResultFetch.objects.create(
        generation=generation, video_uuid=uuid.uuid4(), owner=f"{dead.host}:4242:boot", claimed_at=now
    )
    kept = ResultFetch.objects.create(
        generation=generation, video_uuid=uuid.uuid4(), owner=f"{dead.host}:42420:boot", claimed_at=now
    )

    assert workers.workers_reap().workers == ("dead",)
    assert list(ResultFetch.objects.all()) == [kept]  # pid 42420 is another process


def test_handing_a_task_back_releases_this_processs_fetches(db, generation):
    workers.worker_register("me")
    mine = _running(tasks.poll_generation, generation.pk, "me")
    ResultFetch.objects.create(
        generation=generation, video_uuid=uuid.uuid4(), owner=leases.lease_owner(), claimed_at=timezone.now()
    )
    assert workers.task_hand_back(worker_id="me", task_id=str(mine.id))
    assert not ResultFetch.objects.exists()
