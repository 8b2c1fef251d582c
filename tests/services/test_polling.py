"""Polling getResponse (animate/services/polling.py): a task Runware no longer knows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from animate.models import Generation
from animate.services import polling

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_poll_chain(settings):
    from tests.livehelpers import fast_settings

    fast_settings(settings)
    # Only the explicit polls of a test ask Runware.
    settings.ANIMATE_POLL_INITIAL_DELAY = 300
    settings.ANIMATE_POLL_MAX_DELAY = 300


def test_one_unknown_task_answer_is_noted_and_does_not_fail_the_run(
    live_server, no_poll_chain, settings, member, image_asset, video_asset
):
    from tests.livehelpers import submit, wait_for

    settings.ANIMATE_UNKNOWN_TASK_SECONDS = 600
    generation = submit(member, image_asset, video_asset, positivePrompt="x [sandbox:forget]")
    generation = wait_for(generation, lambda g: g.status == "submitted")
    assert polling.generation_poll(generation_id=generation.pk) is False
    generation.refresh_from_db()
    assert generation.status == "submitted" and generation.unknown_since is not None
    noted = generation.unknown_since
    assert polling.generation_poll(generation_id=generation.pk) is False
    generation.refresh_from_db()
    assert generation.unknown_since == noted  # counted from the first answer, not the latest
    from animate.services.generations import generation_event

    assert generation_event(generation)["unknown_since"] == noted.isoformat()


def test_an_answer_about_the_task_clears_the_unknown_mark(
    live_server, no_poll_chain, member, image_asset, video_asset
):
    from tests.livehelpers import submit, wait_for

    generation = submit(member, image_asset, video_asset, positivePrompt="x [sandbox:drop,delay=30]")
    generation = wait_for(generation, lambda g: g.status == "submitted")
    Generation.objects.filter(pk=generation.pk).update(unknown_since=timezone.now() - timedelta(minutes=5))
    assert polling.generation_poll(generation_id=generation.pk) is False
    generation.refresh_from_db()
    assert generation.unknown_since is None and generation.status == "processing"


def test_a_check_of_an_ended_run_never_fails_it_again(
    live_server, no_poll_chain, member, image_asset, video_asset
):
    from tests.livehelpers import submit, wait_for

    generation = submit(member, image_asset, video_asset, positivePrompt="x [sandbox:forget]")
    generation = wait_for(generation, lambda g: g.status == "submitted")
    Generation.objects.filter(pk=generation.pk).update(status="done", completed_at=timezone.now())
    assert polling.generation_poll(generation_id=generation.pk, check=True) is True
    generation.refresh_from_db()
    assert generation.status == "done" and generation.unknown_since is None
