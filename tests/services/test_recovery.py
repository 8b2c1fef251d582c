import socket
import subprocess
import sys
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from animate import tasks
from animate.embedded import WORKER_PREFIX, _recover
from animate.models import Generation, WebhookEvent
from animate.services import recovery
from tests.livehelpers import fast_settings, submit, wait_for, wait_terminal


def _tasks(task):
    return [row.args_kwargs["args"] for row in DBTaskResult.objects.filter(task_path=task.module_path)]


@pytest.fixture
def make_generation(team, member, image_asset, video_asset):
    def make(status):
        return Generation.objects.create(
            team=team, created_by=member, image=image_asset, video=video_asset, status=status
        )

    return make


def test_unfinished_generations_get_their_background_work_back(make_generation):
    queued, submitted, receiving = (
        make_generation("queued"),
        make_generation("submitted"),
        make_generation("receiving"),
    )
    make_generation("done")
    make_generation("failed")
    summary = recovery.generations_recover()
    assert (summary.submits, summary.polls) == (1, 2)
    assert _tasks(tasks.submit_generation) == [[queued.pk]]
    assert sorted(args[0] for args in _tasks(tasks.poll_generation)) == sorted([submitted.pk, receiving.pk])


def test_work_that_is_already_pending_is_not_enqueued_twice(make_generation):
    queued = make_generation("queued")
    tasks.submit_generation.enqueue(queued.pk)
    assert recovery.generations_recover().submits == 0
    assert len(_tasks(tasks.submit_generation)) == 1


def test_webhook_events_left_unprocessed_are_processed_again(make_generation):
    generation = make_generation("submitted")
    other = make_generation("submitted")
    received = WebhookEvent.objects.create(generation=generation, body={"data": []})
    stuck = WebhookEvent.objects.create(generation=other, body={"data": []}, status="processing")
    done = WebhookEvent.objects.create(generation=other, body={"data": []}, status="processed")
    assert recovery.generations_recover().webhook_events == 2
    stuck.refresh_from_db()
    done.refresh_from_db()
    assert (stuck.status, done.status) == ("received", "processed")
    # One task per generation applies all of its bodies, in order.
    assert sorted(args[0] for args in _tasks(tasks.process_webhook_events)) == [generation.pk, other.pk]
    assert received.status == "received"
    assert recovery.generations_recover().webhook_events == 0  # already pending


def test_only_tasks_of_the_embedded_workers_are_declared_dead(make_generation):
    generation = make_generation("submitted")
    ours = tasks.poll_generation.enqueue(generation.pk, 0).db_result
    theirs = tasks.poll_generation.enqueue(generation.pk, 1).db_result
    ours.claim(f"{WORKER_PREFIX}0-dead")
    theirs.claim("db-worker-on-another-host")
    assert recovery.tasks_abandon_running(worker_prefix=WORKER_PREFIX) == 1
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert (ours.status, theirs.status) == (TaskResultStatus.FAILED, TaskResultStatus.RUNNING)


def test_the_command_takes_long_running_tasks_as_abandoned_and_re_arms_their_rows(make_generation):
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    generation = make_generation("submitted")
    stuck = tasks.poll_generation.enqueue(generation.pk, 0).db_result
    stuck.claim("db-worker-killed")
    DBTaskResult.objects.filter(pk=stuck.pk).update(started_at=timezone.now() - timedelta(hours=2))
    out = StringIO()
    call_command("recover_generations", "--lease-minutes", "30", stdout=out)
    stuck.refresh_from_db()
    assert stuck.status == TaskResultStatus.FAILED
    assert "Abandoned 1 stuck task(s)" in out.getvalue() and "1 poll(s)" in out.getvalue()
    ready = DBTaskResult.objects.filter(
        task_path=tasks.poll_generation.module_path, status=TaskResultStatus.READY
    )
    assert [row.args_kwargs["args"][0] for row in ready] == [generation.pk]


def test_the_command_refuses_a_lease_below_a_minute(db):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="lease"):
        call_command("recover_generations", "--lease-minutes", "0")


@pytest.mark.timeout(120)
def test_a_generation_whose_poller_died_completes_after_a_restart(
    live_server, settings, member, image_asset, video_asset
):
    fast_settings(settings)
    settings.ANIMATE_POLL_INITIAL_DELAY = 3600  # the scheduled poll would come far too late
    generation = submit(member, image_asset, video_asset, positivePrompt="x [sandbox:drop]")
    wait_for(generation, lambda g: g.status == "submitted")
    # The worker running the poll is killed: its queued poll is lost and its task stays RUNNING.
    for row in DBTaskResult.objects.filter(task_path=tasks.poll_generation.module_path):
        row.claim(f"{WORKER_PREFIX}9-killed")
    _recover()  # what the next embedded start does before its workers run
    generation = wait_terminal(generation)
    assert generation.status == "done" and generation.outputs.count() == 1


@pytest.mark.timeout(120)
def test_a_submission_cut_off_by_a_crash_is_sent_at_once_after_the_restart(
    live_server, settings, team, member, image_asset, video_asset
):
    fast_settings(settings)
    settings.ANIMATE_SUBMIT_LEASE_SECONDS = 120
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(30)
    # The process that took the lease died while sending; nothing has the generation's task any more.
    generation = Generation.objects.create(
        team=team,
        created_by=member,
        image=image_asset,
        video=video_asset,
        parameters={"resolution": "480p", "fps": 8},
        estimated_cost=Decimal("0.0100"),
        submit_attempts=1,
        submit_started_at=timezone.now(),
        submit_lease_owner=f"{socket.gethostname()}:{dead.pid}:0a1b2c3d4e5f",
    )
    _recover()  # what the next start does before its workers run
    generation = wait_terminal(generation, timeout=60)  # well inside the 120 s lease
    assert generation.status == "done" and generation.outputs.count() == 1
