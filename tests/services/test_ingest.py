import os
import socket
import uuid
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from animate.models import CostEntry, Generation, Output, ResultFetch
from animate.runware import spec
from animate.services import ingest, webhook_events
from tests.ingestkit import error_body, status_item, stored_event, success


def test_a_success_stores_the_output_and_records_its_cost_once(generation, video_b64):
    result = success(generation, video_b64)
    first = ingest.results_apply(generation_id=generation.pk, results=[result])
    again = ingest.results_apply(generation_id=generation.pk, results=[result, result])
    generation.refresh_from_db()
    assert (first.outputs_created, again.outputs_created, again.duplicates) == (1, 0, 2)
    output = Output.objects.get()
    assert output.seed == 7 and output.cost == Decimal("0.0100") and output.width == 96
    assert CostEntry.objects.get().estimated == Decimal("0.0100")
    assert generation.status == "receiving" and generation.actual_cost == Decimal("0.0100")


def test_the_generation_is_done_when_every_result_is_in(generation, video_b64):
    ingest.results_apply(
        generation_id=generation.pk,
        results=[success(generation, video_b64, seed=1), success(generation, video_b64, seed=2)],
    )
    generation.refresh_from_db()
    assert generation.status == "done" and generation.actual_cost == Decimal("0.0200")


def test_a_late_processing_never_undoes_done_and_a_late_error_is_shown_without_failing_it(
    generation, video_b64
):
    ingest.results_apply(
        generation_id=generation.pk, results=[success(generation, video_b64), success(generation, video_b64)]
    )
    ingest.results_apply(
        generation_id=generation.pk,
        results=[
            status_item(generation, "processing"),
            status_item(generation, "error", code="inferenceError", message="late"),
        ],
    )
    generation.refresh_from_db()
    assert (generation.status, generation.results_failed, generation.error_code) == (
        "done",
        0,
        "inferenceError",
    )
    assert generation.error_message == "After the results were in, Runware reported: late"


def test_an_error_fails_a_one_result_generation_with_the_providers_words(generation):
    Generation.objects.filter(pk=generation.pk).update(number_results=1)
    ingest.results_apply(
        generation_id=generation.pk,
        results=[status_item(generation, "error", code="timeoutProvider", message="The provider timed out.")],
    )
    generation.refresh_from_db()
    assert (generation.status, generation.error_code, generation.error_message) == (
        "failed",
        "timeoutProvider",
        "The provider timed out.",
    )


def test_a_success_after_a_failed_result_ends_the_run_done_with_one_of_two(generation, video_b64):
    ingest.results_apply(
        generation_id=generation.pk, results=[status_item(generation, "error", code="x", message="y")]
    )
    generation.refresh_from_db()
    # One place of two is settled by the error: the run waits for the other.
    assert (generation.status, generation.results_failed, generation.error_message) == ("submitted", 1, "y")
    ingest.results_apply(generation_id=generation.pk, results=[success(generation, video_b64)])
    generation.refresh_from_db()
    assert (generation.status, generation.results_failed, generation.is_partial) == ("done", 1, True)
    assert generation.completed_at and generation.reserved_cost == 0
    assert Output.objects.count() == 1 and generation.actual_cost == Decimal("0.0100")


def test_an_error_without_a_cost_reported_again_after_the_run_ended_is_no_anomaly(generation, video_b64):
    # A poll applies the whole answer (one result, then the error: "done with 1 of 2"); the webhook of the
    # same error, drained later, is the same error again, not one that came after the results.
    error = status_item(generation, "error", code="inferenceError", message="boom")
    ingest.response_apply(generation_id=generation.pk, results=[success(generation, video_b64), error])
    generation.refresh_from_db()
    assert (generation.status, generation.results_failed) == ("done", 1)
    summary = ingest.results_apply(generation_id=generation.pk, results=[error])
    generation.refresh_from_db()
    assert summary.anomalies == ()
    assert (generation.status, generation.error_code, generation.error_message) == (
        "done",
        "inferenceError",
        "boom",
    )
    assert not CostEntry.objects.filter(flagged=True).exists()


def test_an_error_with_no_result_still_processing_fails_a_run_that_has_no_result(generation):
    error = status_item(generation, "error", code="inferenceError", message="boom")
    ingest.results_apply(generation_id=generation.pk, results=[error])
    ingest._settle_if_over(generation.pk, [error])
    generation.refresh_from_db()
    assert (generation.status, generation.results_failed, generation.error_code) == (
        "failed",
        2,
        "inferenceError",
    )


def test_an_error_while_other_results_still_process_leaves_the_run_waiting(generation):
    error = status_item(generation, "error", code="inferenceError", message="boom")
    ingest._settle_if_over(generation.pk, [error, status_item(generation, "processing")])
    ingest.results_apply(generation_id=generation.pk, results=[error, status_item(generation, "processing")])
    ingest._settle_if_over(generation.pk, [error, status_item(generation, "processing")])
    generation.refresh_from_db()
    assert (generation.status, generation.results_failed) == ("processing", 1)
    assert generation.processing_at is not None


def test_a_result_another_process_is_fetching_is_left_to_it_and_stored_by_the_next_look(
    generation, video_b64
):
    # A webhook and a poll announcing one result at once: the one that finds it being fetched leaves it.
    result = success(generation, video_b64)
    holder = f"{socket.gethostname()}:{os.getppid()}:the-other-worker"
    ResultFetch.objects.create(
        generation=generation, video_uuid=result.video_uuid, owner=holder, claimed_at=timezone.now()
    )
    summary = ingest.results_apply(generation_id=generation.pk, results=[result])
    assert (summary.outputs_created, summary.duplicates) == (0, 1)
    assert not Output.objects.exists()
    assert CostEntry.objects.get().amount == Decimal("0.0100")  # charged once, whoever stores the video
    ResultFetch.objects.all().delete()  # the holder ended without storing it (its download broke off)
    again = ingest.results_apply(generation_id=generation.pk, results=[result])
    assert again.outputs_created == 1 and Output.objects.get().video_uuid == uuid.UUID(result.video_uuid)
    assert CostEntry.objects.count() == 1 and not ResultFetch.objects.exists()


def test_a_result_of_another_task_is_ignored(generation, video_b64):
    foreign = spec.parse_result(
        {
            "taskType": "videoInference",
            "taskUUID": str(uuid.uuid4()),
            "status": "success",
            "videoUUID": str(uuid.uuid4()),
            "videoBase64Data": video_b64,
        }
    )
    ingest.results_apply(generation_id=generation.pk, results=[foreign])
    assert not Output.objects.exists()


def _refused(generation, cost):
    return spec.parse_result(
        {
            "taskType": "videoInference",
            "taskUUID": str(generation.task_uuid),
            "status": "success",
            "videoUUID": str(uuid.uuid4()),
            "videoURL": "https://evil.example.com/x.mp4",
            "cost": cost,
        }
    )


def test_a_result_refused_for_its_url_fails_the_run_and_its_cost_is_only_flagged(generation, settings):
    settings.RUNWARE_MEDIA_HOSTS = ["im.runware.ai"]
    summary = ingest.results_apply(generation_id=generation.pk, results=[_refused(generation, 0.01)])
    generation.refresh_from_db()
    assert generation.status == "failed" and generation.error_code == "resultRejected"
    assert "'evil.example.com' is not on RUNWARE_MEDIA_HOSTS" in generation.error_message
    entry = CostEntry.objects.get()
    assert entry.amount == Decimal("0.0100") and entry.flagged and entry.video_uuid is not None
    assert entry.flag_reason.startswith("result ") and "refused" in entry.flag_reason
    assert generation.actual_cost is None and not generation.outputs.exists()
    assert len(summary.anomalies) == 1 and "refused" in summary.anomalies[0]


def test_a_refused_result_that_claims_nothing_writes_no_ledger_row(generation, settings):
    settings.RUNWARE_MEDIA_HOSTS = ["im.runware.ai"]
    ingest.results_apply(generation_id=generation.pk, results=[_refused(generation, 0)])
    assert not CostEntry.objects.exists()


def test_an_error_that_carries_a_cost_is_charged_once(generation):
    error = status_item(generation, "error", code="inferenceError", message="boom", cost=0.005)
    ingest.results_apply(generation_id=generation.pk, results=[error, error])
    generation.refresh_from_db()
    assert CostEntry.objects.get().amount == Decimal("0.0050") and generation.actual_cost == Decimal("0.0050")


def test_a_video_that_cannot_be_fetched_yet_does_not_stop_the_other_results(
    generation, video_b64, monkeypatch
):
    from animate.services import downloads

    def unavailable(*, url, dest_dir=None):
        raise downloads.DownloadFailed("503 from the provider")

    monkeypatch.setattr(ingest, "download_provider_file", unavailable)
    later = spec.parse_result(
        {
            "taskType": "videoInference",
            "taskUUID": str(generation.task_uuid),
            "status": "success",
            "videoUUID": str(uuid.uuid4()),
            "videoURL": "https://im.runware.ai/x.mp4",
            "cost": 0.01,
        }
    )
    with pytest.raises(downloads.DownloadFailed):
        ingest.results_apply(generation_id=generation.pk, results=[later, success(generation, video_b64)])
    generation.refresh_from_db()
    assert Output.objects.count() == 1 and CostEntry.objects.count() == 2
    assert generation.status == "receiving"


def test_a_ledger_row_records_what_an_auditor_filters_by(hooked_generation):
    generation, _ = hooked_generation()
    Generation.objects.filter(pk=generation.pk).update(
        parameters={"mode": "replace", "resolution": "580p", "outputFormat": "WEBM"},
        estimated_cost=Decimal("0.0280"),
        number_results=2,
    )

    ingest._charge(generation.pk, key="t:v", cost=Decimal("0.0140"), video_uuid=str(uuid.uuid4()))

    entry = CostEntry.objects.get()
    assert (entry.team_id, entry.user_id, entry.generation_id) == (
        generation.team_id,
        generation.created_by_id,
        generation.pk,
    )
    assert (entry.mode, entry.tier, entry.output_format, entry.billable_seconds) == (
        "replace",
        "580p",
        "WEBM",
        1,
    )
    assert entry.estimated == Decimal("0.0140") and entry.kind == CostEntry.Kind.RESULT


def test_ledger_rows_can_be_neither_changed_nor_deleted(hooked_generation):
    from animate.models.ledger import LedgerIsAppendOnly

    generation, _ = hooked_generation()
    ingest._charge(generation.pk, key="t:v", cost=Decimal("0.0100"))
    entry = CostEntry.objects.get()

    entry.amount = Decimal("0")
    with pytest.raises(LedgerIsAppendOnly):
        entry.save()
    with pytest.raises(LedgerIsAppendOnly):
        entry.delete()
    with pytest.raises(LedgerIsAppendOnly):
        CostEntry.objects.filter(pk=entry.pk).update(amount=Decimal("0"))
    with pytest.raises(LedgerIsAppendOnly):
        CostEntry.objects.all().delete()
    assert CostEntry.objects.get().amount == Decimal("0.0100")


def test_a_generation_with_ledger_rows_cannot_be_deleted(hooked_generation):
    from django.db.models import ProtectedError

    generation, _ = hooked_generation()
    ingest._charge(generation.pk, key="t:v", cost=Decimal("0.0100"))

    with pytest.raises(ProtectedError):
        generation.delete()
    assert CostEntry.objects.count() == 1


# --- anomalies: bodies beyond what the generation asked for ----------------------------------------


@pytest.fixture
def one_result(generation, video_b64):
    """A one-result generation, done, with its $0.03 result charged."""
    Generation.objects.filter(pk=generation.pk).update(number_results=1)
    ingest.results_apply(generation_id=generation.pk, results=[success(generation, video_b64, cost=0.03)])
    generation.refresh_from_db()
    assert generation.status == "done" and generation.actual_cost == Decimal("0.0300")
    return generation


def test_a_new_result_after_a_one_result_generation_is_done_adds_no_output_and_only_a_flagged_cost(
    one_result, video_b64
):
    extra = success(one_result, video_b64, cost=0.5)
    event = stored_event(one_result, {"data": [extra.raw]})
    assert webhook_events.webhook_events_drain(generation_id=one_result.pk) == "drained"
    one_result.refresh_from_db()
    event.refresh_from_db()
    assert one_result.outputs.count() == 1 and one_result.status == "done"
    assert one_result.actual_cost == Decimal("0.0300")
    assert event.status == "processed" and event.detail.endswith("1 anomaly")
    assert event.anomaly == f"result {extra.video_uuid} after the generation was done (numberResults 1)"
    flagged = CostEntry.objects.get(flagged=True)
    assert (flagged.amount, flagged.flag_reason, str(flagged.video_uuid)) == (
        Decimal("0.5000"),
        event.anomaly,
        extra.video_uuid,
    )


def test_an_error_with_a_cost_after_done_is_flagged_and_changes_nothing_else(one_result):
    event = stored_event(one_result, error_body(one_result, "late", cost=0.2))
    webhook_events.webhook_events_drain(generation_id=one_result.pk)
    one_result.refresh_from_db()
    event.refresh_from_db()
    assert (one_result.status, one_result.error_message, one_result.actual_cost) == (
        "done",
        "After the results were in, Runware reported: late",
        Decimal("0.03"),
    )
    assert event.anomaly == "error after all 1 result(s) were in"
    flagged = CostEntry.objects.get(flagged=True)
    assert flagged.kind == CostEntry.Kind.FAILED_CHARGED and flagged.amount == Decimal("0.2000")


def test_outputs_never_exceed_number_results_even_within_one_body(generation, video_b64):
    Generation.objects.filter(pk=generation.pk).update(number_results=1)
    first, second = success(generation, video_b64, seed=1), success(generation, video_b64, seed=2)
    summary = ingest.results_apply(generation_id=generation.pk, results=[first, second, second])
    generation.refresh_from_db()
    assert generation.outputs.get().seed == 1 and generation.result_uuids == [first.video_uuid]
    assert (
        summary.anomalies
        == (f"result {second.video_uuid} after the generation was done (numberResults 1)",) * 2
    )
    assert generation.actual_cost == Decimal("0.0100")
    assert CostEntry.objects.filter(flagged=True).count() == 1  # the repeated claim is one row


def test_a_failed_result_keeps_its_place_so_a_run_never_takes_more_than_number_results(generation, video_b64):
    # numberResults 2: after Runware's error only one success can still be one of its results.
    ingest.results_apply(generation_id=generation.pk, results=[status_item(generation, "error", code="x")])
    late = [success(generation, video_b64, seed=1), success(generation, video_b64, seed=2)]
    summary = ingest.results_apply(generation_id=generation.pk, results=late)
    generation.refresh_from_db()
    assert generation.status == "done" and generation.outputs.count() == 1
    assert summary.anomalies == (
        f"result {late[1].video_uuid} after the generation was done (numberResults 2)",
    )


def test_a_run_failed_for_another_reason_still_stores_and_charges_a_late_result(generation, video_b64):
    from animate.services import generations

    with transaction.atomic():
        locked = Generation.objects.select_for_update().get(pk=generation.pk)
        generations.generation_transition(locked, "failed", error_code="stoppedWaiting", error_message="x")
    ingest.results_apply(generation_id=generation.pk, results=[success(generation, video_b64)])
    generation.refresh_from_db()
    assert generation.status == "failed" and generation.outputs.count() == 1
    assert generation.actual_cost == Decimal("0.0100")


def test_a_result_arriving_while_the_last_place_is_downloading_is_beyond_number_results(
    generation, video_b64, monkeypatch
):
    from animate.services import downloads

    def unavailable(*, url, dest_dir=None):
        raise downloads.DownloadFailed("still downloading elsewhere")

    monkeypatch.setattr(ingest, "download_provider_file", unavailable)
    Generation.objects.filter(pk=generation.pk).update(number_results=1)
    slow = spec.parse_result(
        {**success(generation, video_b64).raw, "videoURL": "https://im.runware.ai/a.mp4"}
    )
    with pytest.raises(downloads.DownloadFailed):
        ingest.results_apply(generation_id=generation.pk, results=[slow])
    other = success(generation, video_b64)
    summary = ingest.results_apply(generation_id=generation.pk, results=[other])
    assert summary.anomalies == (f"result {other.video_uuid} beyond numberResults (1)",)
    assert not Output.objects.exists()
