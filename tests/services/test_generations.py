from decimal import Decimal

import pytest
from django_tasks_db.models import DBTaskResult

from animate.models import Generation, Membership
from animate.services import generations
from animate.services.generations import GenerationRejected, generation_create, generation_transition
from animate.services.teams import NotAllowed, membership_for


def _generation(team, user, image, video, **kwargs) -> Generation:
    return Generation.objects.create(team=team, created_by=user, image=image, video=video, **kwargs)


@pytest.mark.parametrize(
    ("start", "target", "moved"),
    [
        ("queued", "submitted", True),
        ("submitted", "processing", True),
        ("processing", "done", True),
        ("queued", "failed", True),
        ("receiving", "processing", False),
        ("processing", "submitted", False),
        ("done", "processing", False),
        ("done", "failed", False),
        ("failed", "done", False),
        ("submitted", "submitted", False),
    ],
)
def test_transitions_only_move_forward_and_never_leave_a_terminal_state(
    team, member, image_asset, video_asset, start, target, moved
):
    generation = _generation(team, member, image_asset, video_asset, status=start)
    assert generation_transition(generation, target) is moved
    generation.refresh_from_db()
    assert generation.status == (target if moved else start)


def test_a_terminal_transition_stamps_completion_and_keeps_the_error(team, member, image_asset, video_asset):
    generation = _generation(team, member, image_asset, video_asset, status="submitted")
    generation_transition(
        generation, "failed", error_code="inferenceError", error_message="The model crashed."
    )
    generation.refresh_from_db()
    assert generation.completed_at is not None
    assert (generation.error_code, generation.error_message) == ("inferenceError", "The model crashed.")


def test_only_the_hash_of_the_webhook_secret_is_stored_and_it_is_compared_exactly(
    team, member, image_asset, video_asset
):
    secret, digest = generations.webhook_secret_new()
    assert len(secret) >= 32 and secret not in digest
    generation = _generation(team, member, image_asset, video_asset, webhook_secret_hashes=[digest])
    assert generations.webhook_secret_matches(generation, secret)
    assert not generations.webhook_secret_matches(
        generation, secret[:-1] + ("A" if secret[-1] != "A" else "B")
    )
    generation.webhook_secret_hashes = []
    assert not generations.webhook_secret_matches(generation, "")


@pytest.mark.parametrize(
    ("url", "reachable"),
    [
        ("http://127.0.0.1:8000", False),
        ("http://localhost:8000", False),
        ("http://10.1.2.3", False),
        ("http://studio.local", False),
        ("https://studio.example.com", True),
        ("https://93.184.216.34", True),
    ],
)
def test_public_base_url_reachability_with_the_real_api(settings, url, reachable):
    settings.RUNWARE_SANDBOX = False
    settings.PUBLIC_BASE_URL = url
    assert generations.public_base_url_reachable() is reachable


def test_the_sandbox_can_always_reach_us(settings):
    settings.RUNWARE_SANDBOX = True
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    assert generations.public_base_url_reachable()


def test_quote_is_seconds_times_tier_times_results(video_asset):
    quote = generations.generation_quote(
        choices={"resolution": "580p", "numberResults": 3}, video=video_asset
    )
    assert quote.problems == {}
    assert quote.estimate == Decimal("0.0420")  # 1 s x $0.014 x 3
    assert (quote.tier, quote.billable_seconds, quote.number_results) == ("580p", 1, 3)


def test_quote_names_the_parameter_that_is_out_of_range(video_asset):
    quote = generations.generation_quote(choices={"fps": 99}, video=video_asset)
    assert set(quote.problems) == {"fps"}
    assert quote.estimate is None


def test_creating_a_generation_saves_it_queued_with_its_estimate_and_enqueues_the_submission(
    team, member, image_asset, video_asset, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        generation = generation_create(
            membership=membership_for(member),
            image=image_asset,
            video=video_asset,
            choices={"resolution": "480p", "fps": 8, "numberResults": 2, "taskUUID": "forged"},
        )
    generation.refresh_from_db()
    assert generation.status == Generation.Status.QUEUED
    assert generation.estimated_cost == Decimal("0.0200")
    assert generation.number_results == 2
    assert generation.parameters["fps"] == 8 and "taskUUID" not in generation.parameters
    queued = DBTaskResult.objects.get()
    assert queued.task_path.endswith("submit_generation") and queued.args_kwargs["args"] == [generation.pk]


def test_a_reviewer_cannot_spend(team, reviewer, image_asset, video_asset):
    with pytest.raises(NotAllowed):
        generation_create(
            membership=membership_for(reviewer), image=image_asset, video=video_asset, choices={}
        )
    assert not Generation.objects.exists()


def test_assets_of_another_team_are_refused_naming_the_field(
    team, other_team, member, outsider, image_asset, tmp_path
):
    from animate.samples import make_driving_video
    from tests.conftest import make_asset

    foreign_video = make_asset(
        other_team, outsider, "video", make_driving_video(tmp_path / "x.mp4", seconds=1, fps=8)
    )
    with pytest.raises(GenerationRejected) as caught:
        generation_create(
            membership=membership_for(member), image=image_asset, video=foreign_video, choices={}
        )
    assert set(caught.value.problems) == {"video"}
    assert not Generation.objects.exists()


def test_an_image_cannot_stand_in_for_the_driving_video(team, member, image_asset):
    with pytest.raises(GenerationRejected) as caught:
        generation_create(membership=membership_for(member), image=image_asset, video=image_asset, choices={})
    assert "video" in caught.value.problems


def test_a_user_without_a_team_has_no_membership(django_user_model, db):
    user = django_user_model.objects.create_user(username="loner", password="x")
    assert membership_for(user) is None
    assert Membership.objects.count() == 0


@pytest.mark.parametrize("forced", [True, False])
def test_reachability_can_be_forced_for_tunnels_and_private_networks(settings, forced):
    settings.RUNWARE_SANDBOX = not forced
    settings.PUBLIC_BASE_URL = "http://10.0.0.5" if forced else "https://studio.example.com"
    settings.PUBLIC_BASE_URL_REACHABLE = forced
    assert generations.public_base_url_reachable() is forced


# --- charged, no result ------------------------------------------------------------------------------


def test_a_run_charged_without_a_stored_result_says_so_in_its_event(team, member, image_asset, video_asset):
    import uuid
    from decimal import Decimal

    from animate.services.generations import charge_flag, charged_unstored, generation_event
    from tests.costkit import entry
    from tests.views.conftest import output_for

    generation = Generation.objects.create(
        team=team,
        created_by=member,
        image=image_asset,
        video=video_asset,
        status="receiving",
        number_results=2,
    )
    event = generation_event(generation)
    assert (event["charged_no_result"], event["charge_flag"]) == (False, "")

    entry(team, member, "0.0100", generation=generation, video_uuid=uuid.uuid4())
    event = generation_event(generation)
    assert (event["charged_no_result"], event["charge_flag"]) == (True, "Charged, result not stored yet")

    stored = output_for(generation)
    entry(team, member, "0.0100", generation=generation, video_uuid=stored.video_uuid)
    entry(team, member, "0.5000", generation=generation, video_uuid=uuid.uuid4(), flagged=True)  # anomalous
    assert generation_event(generation)["charge_flag"] == "Charged, 1 result not stored"

    generation.status = "failed"
    other = Generation.objects.create(
        team=team, created_by=member, image=image_asset, video=video_asset, status="failed"
    )
    entry(team, member, "0.2000", generation=other, kind="failed_charged")
    assert charge_flag(other, unstored=charged_unstored(other), received=0) == "Charged, no result"
    assert generation_event(other)["reserved_cost"] == str(Decimal("0"))


def test_a_result_that_overtakes_the_submit_answer_still_leaves_every_step_stamped(
    team, member, image_asset, video_asset
):
    # The root of the missing "Submitted"/"Receiving" times: a webhook result can be applied before the
    # submit's transaction moves the run to submitted, and that later move is refused as backward.
    generation = _generation(team, member, image_asset, video_asset, status="queued")
    assert generation_transition(generation, "receiving") is True
    assert generation.submitted_at == generation.processing_at == generation.receiving_at is not None
    first = generation.submitted_at
    assert generation_transition(generation, "submitted") is False
    generation.refresh_from_db()
    assert (generation.status, generation.submitted_at) == ("receiving", first)
    assert generation_transition(generation, "done") is True
    generation.refresh_from_db()
    assert generation.completed_at >= generation.receiving_at


def test_the_late_news_of_a_step_stamps_it_without_moving_the_run(team, member, image_asset, video_asset):
    generation = _generation(team, member, image_asset, video_asset, status="receiving")
    assert generation.submitted_at is None
    assert generation_transition(generation, "submitted") is False
    generation.refresh_from_db()
    assert generation.status == "receiving" and generation.submitted_at is not None


def test_a_run_that_fails_before_it_is_sent_is_never_stamped_submitted(
    team, member, image_asset, video_asset
):
    generation = _generation(team, member, image_asset, video_asset, status="queued")
    generation_transition(generation, "failed", error_code="inputTooLarge", error_message="x")
    generation.refresh_from_db()
    assert generation.completed_at and generation.submitted_at is None and generation.receiving_at is None


def test_a_partial_done_is_labelled_k_of_n_in_its_event(team, member, image_asset, video_asset):
    generation = _generation(team, member, image_asset, video_asset, status="receiving", number_results=3)
    generation_transition(
        generation, "done", error_code="inferenceError", error_message="one failed", results_failed=1
    )
    generation.refresh_from_db()
    assert generation.is_partial and generation.results_failed == 1
    event = generations.generation_event(generation)
    assert (event["status_label"], event["partial"], event["error"]) == ("Done — 0 of 3", True, "one failed")
    assert event["timestamps"]["receiving"] is not None and event["eta"] is None


@pytest.mark.parametrize(
    ("fields", "allowed"),
    [
        ({"status": "done", "number_results": 3, "results_failed": 2, "error_code": "x"}, True),
        ({"status": "done", "number_results": 3, "results_failed": 3, "error_code": "x"}, False),
        ({"status": "failed", "number_results": 2, "results_failed": 2, "error_code": "x"}, True),
        ({"status": "failed", "number_results": 2, "results_failed": 3, "error_code": "x"}, False),
        ({"status": "receiving", "number_results": 2, "results_failed": 1, "error_code": ""}, False),
        ({"status": "processing", "dismissed_at": "now"}, False),
        ({"status": "failed", "dismissed_at": "now"}, True),
    ],
)
def test_the_database_refuses_impossible_counts_of_failed_results_and_dismissals(
    team, member, image_asset, video_asset, fields, allowed
):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    if fields.get("dismissed_at") == "now":
        fields = {**fields, "dismissed_at": timezone.now()}
    if allowed:
        _generation(team, member, image_asset, video_asset, **fields)
        return
    with pytest.raises(IntegrityError), transaction.atomic():
        _generation(team, member, image_asset, video_asset, **fields)
