"""Whole generations through a live server: submit → sandbox → webhook/poll → stored outputs and costs."""

import time
from decimal import Decimal

import av
import pytest

from animate.models import CostEntry, Generation, Output, WebhookEvent
from tests.livehelpers import fast_settings, submit, wait_for, wait_terminal

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def _fast(settings):
    fast_settings(settings)


def test_a_generation_completes_with_a_playable_stored_output_and_its_cost(
    live_server, member, image_asset, video_asset
):
    generation = wait_terminal(submit(member, image_asset, video_asset))
    assert generation.status == Generation.Status.DONE, generation.error_message
    output = generation.outputs.get()
    with av.open(output.file.path) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (output.width, output.height)
    assert output.sha256 and output.poster
    entry = CostEntry.objects.get()
    assert entry.amount == Decimal("0.0100") and entry.video_uuid == output.video_uuid
    assert generation.actual_cost == Decimal("0.0100") == generation.estimated_cost
    assert generation.submitted_at and generation.completed_at and generation.sent_task["includeCost"] is True
    assert "[redacted]" in generation.sent_task["webhookURL"]
    # The signed input URLs are bearer credentials too: no usable token is kept.
    inputs = generation.sent_task["inputs"]
    for url in inputs["referenceImages"] + inputs["referenceVideos"]:
        assert "/m/signed/[redacted]/" in url


def test_five_duplicate_webhooks_make_one_output_and_one_cost(live_server, member, image_asset, video_asset):
    generation = wait_terminal(
        submit(member, image_asset, video_asset, positivePrompt="a dancer [sandbox:duplicate=5]")
    )
    assert generation.status == Generation.Status.DONE
    # The four replays of the one body are counted on it: stored once, applied once.
    wait_for(generation, lambda g: sum(WebhookEvent.objects.values_list("duplicates", flat=True)) >= 4)
    assert Output.objects.count() == 1
    assert CostEntry.objects.count() == 1
    assert generation.actual_cost == Decimal("0.0100")
    event = WebhookEvent.objects.get(generation=generation)
    assert (event.status, event.duplicates) == ("processed", 4)


def test_four_results_make_four_outputs_with_distinct_seeds(live_server, member, image_asset, video_asset):
    generation = wait_terminal(submit(member, image_asset, video_asset, numberResults=4, seed=1234))
    assert generation.status == Generation.Status.DONE
    outputs = list(generation.outputs.all())
    assert len(outputs) == 4
    assert len({o.seed for o in outputs}) == 4 and len({o.video_uuid for o in outputs}) == 4
    assert CostEntry.objects.filter(generation=generation).count() == 4
    assert generation.actual_cost == Decimal("0.0400") == generation.estimated_cost


def test_dropped_webhooks_still_complete_through_polling(live_server, member, image_asset, video_asset):
    generation = wait_terminal(submit(member, image_asset, video_asset, positivePrompt="x [sandbox:drop]"))
    assert generation.status == Generation.Status.DONE
    assert not WebhookEvent.objects.exists()
    assert generation.poll_attempts >= 1
    assert Output.objects.count() == 1 and CostEntry.objects.count() == 1


def test_out_of_order_and_late_processing_results_never_undo_done(
    live_server, member, image_asset, video_asset
):
    generation = submit(
        member, image_asset, video_asset, numberResults=2, positivePrompt="x [sandbox:order=reverse,late]"
    )
    generation = wait_terminal(generation)
    assert generation.status == Generation.Status.DONE
    # The stale "processing" webhooks arrive after the successes: give them time, then check again.
    wait_for(
        generation,
        lambda g: (
            WebhookEvent.objects.filter(generation=g, status__in=["received", "processing"]).count() == 0
            # Deliveries: the bodies stored, and the identical ones counted on them.
            and sum(
                1 + n for n in WebhookEvent.objects.filter(generation=g).values_list("duplicates", flat=True)
            )
            >= 4
        ),
    )
    generation.refresh_from_db()
    assert generation.status == Generation.Status.DONE
    assert generation.outputs.count() == 2


def test_an_error_after_a_success_does_not_undo_the_result(live_server, member, image_asset, video_asset):
    generation = wait_terminal(
        submit(member, image_asset, video_asset, positivePrompt="x [sandbox:error_after_success]")
    )
    assert generation.status == Generation.Status.DONE
    time.sleep(1.0)
    generation.refresh_from_db()
    assert generation.status == Generation.Status.DONE and generation.outputs.count() == 1
    assert CostEntry.objects.count() == 1


def test_an_error_result_fails_the_generation_with_the_providers_message(
    live_server, member, image_asset, video_asset
):
    generation = wait_terminal(
        submit(member, image_asset, video_asset, positivePrompt="x [sandbox:error=inferenceError]")
    )
    assert generation.status == Generation.Status.FAILED
    assert generation.error_code == "inferenceError" and generation.error_message
    assert not Output.objects.exists() and not CostEntry.objects.exists()


def test_a_submit_answered_5xx_after_acceptance_creates_exactly_one_task(
    live_server, member, image_asset, video_asset
):
    generation = submit(
        member, image_asset, video_asset, positivePrompt="x [sandbox:submit_5xx_after_accept=1]"
    )
    generation = wait_terminal(generation)
    assert generation.status == Generation.Status.DONE, generation.error_message
    assert generation.outputs.count() == 1 and CostEntry.objects.count() == 1


def test_an_invalid_task_at_the_provider_fails_with_its_message(
    live_server, member, image_asset, video_asset, settings
):
    settings.RUNWARE_SANDBOX_FAULTS = "not-a-fault"
    generation = wait_terminal(submit(member, image_asset, video_asset))
    assert generation.status == Generation.Status.FAILED
    assert generation.error_message


def test_nsfw_flag_is_recorded_when_safety_checking_is_on(live_server, member, image_asset, video_asset):
    generation = submit(
        member, image_asset, video_asset, checkContent=True, positivePrompt="x [sandbox:nsfw]"
    )
    generation = wait_terminal(generation)
    assert generation.status == Generation.Status.DONE
    assert generation.outputs.get().nsfw is True


def test_a_download_that_keeps_breaking_off_is_retried_by_polling_then_given_up_but_charged_once(
    live_server, settings, member, image_asset, video_asset
):
    settings.ANIMATE_POLL_GIVE_UP_SECONDS = 4
    settings.ANIMATE_RESULT_UPLOADS = False  # the video is fetched from videoURL, not PUT by uploadEndpoint
    generation = submit(member, image_asset, video_asset, positivePrompt="x [sandbox:partial_download]")
    generation = wait_terminal(generation)
    assert generation.poll_attempts >= 3
    assert (generation.status, generation.error_code) == ("failed", "timeout")
    assert not Output.objects.exists()
    entry = CostEntry.objects.get()  # Runware charged for the result even though we never got the video
    assert not generation.outputs.exists() and generation.actual_cost == entry.amount


def test_a_slow_download_still_completes(live_server, settings, member, image_asset, video_asset):
    settings.ANIMATE_RESULT_UPLOADS = False  # the video is fetched from videoURL, not PUT by uploadEndpoint
    generation = submit(member, image_asset, video_asset, positivePrompt="x [sandbox:slow_download=200000]")
    generation = wait_terminal(generation)
    assert generation.status == Generation.Status.DONE and generation.outputs.count() == 1


@pytest.fixture
def three_workers(settings):
    # Enough worker threads to apply all three webhooks at once, were they not kept in arrival order.
    settings.EMBEDDED_WORKER_THREADS = 3


def test_an_error_sent_while_results_are_still_downloading_waits_its_turn(
    three_workers, live_server, member, image_asset, video_asset
):
    # Two slow downloads are in flight when the error webhook arrives; applied in arrival order, the
    # error finds the generation already done instead of failing it under the downloads' feet.
    generation = submit(
        member,
        image_asset,
        video_asset,
        numberResults=2,
        positivePrompt="x [sandbox:error_after_success,slow_download=150000]",
    )
    generation = wait_terminal(generation)
    assert generation.status == Generation.Status.DONE, generation.error_message
    assert generation.outputs.count() == 2


def test_a_partial_failure_of_three_results_ends_done_two_of_three_with_their_outputs_and_charges(
    live_server, member, image_asset, video_asset
):
    generation = wait_terminal(
        submit(member, image_asset, video_asset, numberResults=3, positivePrompt="x [sandbox:fail_result=2]")
    )
    assert (generation.status, generation.results_failed, generation.is_partial) == ("done", 1, True)
    assert generation.error_code == "inferenceError" and "Result 2 of 3" in generation.error_message
    assert generation.outputs.count() == 2
    # The ledger holds what Runware charged: one row per result that arrived, nothing for the failed one.
    entries = list(CostEntry.objects.filter(generation=generation))
    assert sorted(entry.kind for entry in entries) == ["result", "result"]
    assert {entry.video_uuid for entry in entries} == set(
        generation.outputs.values_list("video_uuid", flat=True)
    )
    assert not any(entry.flagged for entry in entries)
    per_result = generation.estimated_cost / 3
    assert generation.actual_cost == 2 * per_result == sum(entry.amount for entry in entries)
    assert generation.reserved_cost == 0
    from animate.services.generations import generation_event

    event = generation_event(generation)
    assert (event["status_label"], event["partial"], event["results_failed"]) == ("Done — 2 of 3", True, 1)
    assert event["error"] == generation.error_message


def test_a_partial_failure_also_ends_done_when_results_come_only_by_polling(
    live_server, member, image_asset, video_asset
):
    generation = wait_terminal(
        submit(
            member, image_asset, video_asset, numberResults=3, positivePrompt="x [sandbox:fail_result=1,drop]"
        )
    )
    assert generation.is_partial and generation.outputs.count() == 2
    assert not WebhookEvent.objects.exists()


def test_an_error_after_every_result_is_shown_on_the_done_run(live_server, member, image_asset, video_asset):
    generation = submit(member, image_asset, video_asset, positivePrompt="x [sandbox:error_after_success]")
    generation = wait_for(generation, lambda g: g.is_terminal and g.error_code)
    assert (generation.status, generation.results_failed) == ("done", 0)
    assert generation.error_message.startswith("After the results were in, Runware reported:")
    from animate.services.generations import generation_event

    # Never a plain "Done": the label says an error came too.
    assert generation_event(generation)["status_label"] == "Done — error reported"


def test_a_task_runware_forgets_ends_failed_within_the_documented_time(
    live_server, settings, member, image_asset, video_asset
):
    settings.ANIMATE_UNKNOWN_TASK_SECONDS = 2
    generation = submit(member, image_asset, video_asset, positivePrompt="x [sandbox:forget]")
    started = time.monotonic()
    generation = wait_terminal(generation, timeout=30)
    elapsed = time.monotonic() - started
    assert generation.status == "failed" and generation.error_code == "taskFailedOrNotFound"
    assert "Runware no longer knows this task" in generation.error_message
    # Not on the first unknown answer, and not long after the limit (polls come at most a second apart).
    assert 2 <= elapsed < 2 + 8
    assert generation.submitted_at and generation.completed_at
    assert (generation.completed_at - generation.submitted_at).total_seconds() >= 2
    assert generation.unknown_since is None and generation.reserved_cost == 0


def test_every_step_of_a_done_run_has_its_timestamp_in_order(live_server, member, image_asset, video_asset):
    generation = wait_terminal(submit(member, image_asset, video_asset, numberResults=2))
    stamps = [
        generation.created_at,
        generation.submitted_at,
        generation.processing_at,
        generation.receiving_at,
        generation.completed_at,
    ]
    assert all(stamps), stamps
    assert stamps == sorted(stamps)


def test_a_task_wide_error_by_webhook_ends_a_multi_result_run_without_waiting_for_the_poll_chain(
    live_server, settings, member, image_asset, video_asset
):
    settings.ANIMATE_POLL_INITIAL_DELAY = 300
    settings.ANIMATE_POLL_MAX_DELAY = 300
    settings.ANIMATE_ERROR_CHECK_DELAY = 0.2
    generation = submit(member, image_asset, video_asset, numberResults=2, positivePrompt="x [sandbox:error]")
    generation = wait_terminal(generation, timeout=20)
    assert (generation.status, generation.error_code, generation.results_failed) == (
        "failed",
        "timeoutProvider",
        2,
    )
    assert generation.poll_attempts == 1  # the one look that the webhook's error asked for
