"""Check now, stop waiting and dismiss: against a live server and the sandbox where Runware is asked."""

import time

import pytest

from animate.models import AuditEvent, CostEntry, Generation
from animate.runware.sandbox.engine import sandbox
from animate.services import runs
from animate.services.teams import NotAllowed, membership_for
from tests.livehelpers import fast_settings, submit, wait_for

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def slow_polls(settings):
    fast_settings(settings)
    # The poll chain stays out of the way: only "check now" asks Runware in these tests.
    settings.ANIMATE_POLL_INITIAL_DELAY = 300
    settings.ANIMATE_POLL_MAX_DELAY = 300


def _sandbox_done(generation: Generation, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data, _ = sandbox().get_response(str(generation.task_uuid))
        if data and all(item.get("status") == "success" for item in data):
            return
        time.sleep(0.1)
    raise AssertionError("the sandbox did not finish the task")


def test_check_now_applies_what_runware_has_at_once_and_is_audited(
    live_server, slow_polls, admin, member, image_asset, video_asset
):
    generation = submit(member, image_asset, video_asset, positivePrompt="x [sandbox:drop]")
    generation = wait_for(generation, lambda g: g.status == "submitted")
    _sandbox_done(generation)
    checked = runs.generation_check_now(
        membership=membership_for(admin), generation_id=generation.pk, ip="10.0.0.9"
    )
    assert checked.status == "done" and checked.outputs.count() == 1
    event = AuditEvent.objects.get(action=AuditEvent.Action.RUN_CHECKED)
    assert (event.actor, event.target_id, event.detail) == (
        admin,
        str(generation.pk),
        {"before": "submitted", "after": "done"},
    )


def test_stop_waiting_fails_the_run_by_name_and_a_late_result_is_still_stored_and_charged(
    live_server, slow_polls, admin, member, image_asset, video_asset
):
    generation = submit(member, image_asset, video_asset, positivePrompt="x [sandbox:drop]")
    generation = wait_for(generation, lambda g: g.status == "submitted")
    assert generation.reserved_cost > 0
    stopped = runs.generation_stop_waiting(membership=membership_for(admin), generation_id=generation.pk)
    assert (stopped.status, stopped.error_code) == ("failed", "stoppedWaiting")
    assert (
        stopped.error_message.startswith("Stopped waiting by ada.")
        and "charge may still come" in stopped.error_message
    )
    assert stopped.reserved_cost == 0
    assert AuditEvent.objects.filter(action=AuditEvent.Action.RUN_ABANDONED, actor=admin).exists()
    # Runware finishes it anyway: the result is kept and its cost recorded; the run stays failed.
    _sandbox_done(generation)
    late = runs.generation_check_now(membership=membership_for(admin), generation_id=generation.pk)
    assert late.status == "failed" and late.outputs.count() == 1
    assert CostEntry.objects.filter(generation=generation, flagged=False).count() == 1
    assert late.actual_cost == late.estimated_cost


def test_only_admins_check_or_stop_and_only_runs_of_their_team(
    team, admin, member, outsider, image_asset, video_asset
):
    generation = Generation.objects.create(
        team=team, created_by=member, image=image_asset, video=video_asset, status="submitted"
    )
    with pytest.raises(NotAllowed):
        runs.generation_stop_waiting(membership=membership_for(member), generation_id=generation.pk)
    with pytest.raises(NotAllowed):
        runs.generation_check_now(membership=membership_for(member), generation_id=generation.pk)
    with pytest.raises(runs.RunNotFound):
        runs.generation_stop_waiting(membership=membership_for(outsider), generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.status == "submitted"


def test_an_ended_run_cannot_be_stopped_and_a_queued_one_not_checked(
    team, admin, member, image_asset, video_asset
):
    done = Generation.objects.create(
        team=team, created_by=member, image=image_asset, video=video_asset, status="done"
    )
    queued = Generation.objects.create(team=team, created_by=member, image=image_asset, video=video_asset)
    with pytest.raises(runs.RunActionRefused, match="already ended"):
        runs.generation_stop_waiting(membership=membership_for(admin), generation_id=done.pk)
    with pytest.raises(runs.RunActionRefused, match="not been sent"):
        runs.generation_check_now(membership=membership_for(admin), generation_id=queued.pk)


def test_a_creator_dismisses_an_ended_run_of_their_own_once(team, admin, member, image_asset, video_asset):
    ended = Generation.objects.create(
        team=team, created_by=member, image=image_asset, video=video_asset, status="failed"
    )
    running = Generation.objects.create(
        team=team, created_by=member, image=image_asset, video=video_asset, status="processing"
    )
    dismissed = runs.generation_dismiss(membership=membership_for(member), generation_id=ended.pk)
    first = dismissed.dismissed_at
    assert first is not None
    assert (
        runs.generation_dismiss(membership=membership_for(member), generation_id=ended.pk).dismissed_at
        == first
    )
    with pytest.raises(runs.RunActionRefused, match="finished or failed"):
        runs.generation_dismiss(membership=membership_for(member), generation_id=running.pk)
    # Someone else's run is not theirs to take off a list, admin or not.
    with pytest.raises(runs.RunNotFound):
        runs.generation_dismiss(membership=membership_for(admin), generation_id=ended.pk)
