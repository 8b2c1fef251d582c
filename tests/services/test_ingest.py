import base64
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from animate.models import CostEntry, Generation, Output, WebhookEvent
from animate.runware import spec
from animate.samples import make_driving_video
from animate.services import ingest


@pytest.fixture
def generation(team, member, image_asset, video_asset):
    return Generation.objects.create(
        team=team,
        created_by=member,
        image=image_asset,
        video=video_asset,
        status="submitted",
        number_results=2,
        estimated_cost=Decimal("0.0200"),
    )


@pytest.fixture
def video_b64(tmp_path):
    path = make_driving_video(tmp_path / "result.mp4", seconds=0.5, fps=8, width=96, height=128)
    return base64.b64encode(path.read_bytes()).decode()


def success(generation, video_b64, video_uuid=None, seed=7, cost=0.01):
    return spec.parse_result(
        {
            "taskType": "videoInference",
            "taskUUID": str(generation.task_uuid),
            "status": "success",
            "videoUUID": str(video_uuid or uuid.uuid4()),
            "videoBase64Data": video_b64,
            "seed": seed,
            "cost": cost,
            "NSFWContent": False,
        }
    )


def status_item(generation, status, **extra):
    return spec.parse_result(
        {"taskType": "videoInference", "taskUUID": str(generation.task_uuid), "status": status, **extra}
    )


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


def test_a_late_processing_never_undoes_done_and_a_late_error_never_fails_it(generation, video_b64):
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
    assert generation.status == "done" and generation.error_message == ""


def test_an_error_fails_the_generation_with_the_providers_words(generation):
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


def test_a_success_after_a_failure_is_still_stored_and_charged(generation, video_b64):
    ingest.results_apply(
        generation_id=generation.pk, results=[status_item(generation, "error", code="x", message="y")]
    )
    ingest.results_apply(generation_id=generation.pk, results=[success(generation, video_b64)])
    generation.refresh_from_db()
    assert generation.status == "failed"
    assert Output.objects.count() == 1 and generation.actual_cost == Decimal("0.0100")


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


def _event(generation, body, **fields):
    return WebhookEvent.objects.create(generation=generation, body=body, **fields)


def test_webhook_events_of_a_generation_are_applied_in_arrival_order(generation, video_b64):
    first = _event(generation, {"data": [success(generation, video_b64).raw]})
    second = _event(
        generation,
        {
            "errors": [
                {"taskUUID": str(generation.task_uuid), "status": "error", "code": "x", "message": "after"}
            ]
        },
    )
    assert ingest.webhook_event_process(event_id=second.pk) is None  # waits for the first
    assert ingest.webhook_event_process(event_id=first.pk).outputs_created == 1
    assert ingest.webhook_event_process(event_id=second.pk) is not None
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("processed", "processed")


def test_an_event_stuck_in_processing_stops_blocking_after_the_claim_expires(generation, settings):
    settings.ANIMATE_WEBHOOK_CLAIM_SECONDS = 60
    _event(generation, {"data": []}, status="processing", started_at=timezone.now() - timedelta(minutes=5))
    later = _event(generation, {"data": [status_item(generation, "processing").raw]})
    assert ingest.webhook_event_process(event_id=later.pk) is not None
    generation.refresh_from_db()
    assert generation.status == "processing"


def test_a_processed_event_is_never_applied_twice(generation, video_b64):
    event = _event(generation, {"data": [success(generation, video_b64).raw]})
    ingest.webhook_event_process(event_id=event.pk)
    summary = ingest.webhook_event_process(event_id=event.pk)
    assert summary.outputs_created == 0 and Output.objects.count() == 1


def test_a_charged_result_whose_video_is_refused_is_still_in_the_ledger(generation, settings):
    settings.RUNWARE_MEDIA_HOSTS = ["im.runware.ai"]
    refused = spec.parse_result(
        {
            "taskType": "videoInference",
            "taskUUID": str(generation.task_uuid),
            "status": "success",
            "videoUUID": str(uuid.uuid4()),
            "videoURL": "https://evil.example.com/x.mp4",
            "cost": 0.01,
        }
    )
    from animate.services.downloads import DownloadRejected

    with pytest.raises(DownloadRejected):
        ingest.results_apply(generation_id=generation.pk, results=[refused])
    generation.refresh_from_db()
    assert generation.status == "failed" and generation.error_code == "resultRejected"
    entry = CostEntry.objects.get()
    assert entry.amount == Decimal("0.0100") and not generation.outputs.exists()
    assert entry.kind == CostEntry.Kind.RESULT and entry.video_uuid is not None
    assert generation.actual_cost == Decimal("0.0100")


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
