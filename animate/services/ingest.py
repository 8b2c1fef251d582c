"""One ingestion path for results, whether they come by webhook or by polling getResponse.

Each result is keyed by (taskUUID, videoUUID) and applied at most once: the Output row and the ledger row
both carry unique constraints, so duplicates, retries and replays change nothing. Slow I/O (downloading
the video) happens outside any transaction; state changes happen in short transactions that lock the
generation row.
"""

import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone

from animate import events
from animate.models import CostEntry, Generation, Output, WebhookEvent
from animate.runware import spec
from animate.services import boards, budgets, generations, ledger
from animate.services.downloads import (
    DownloadFailed,
    DownloadRejected,
    decode_inline_video,
    download_provider_file,
)
from animate.services.media import MediaRejected, output_store

logger = logging.getLogger(__name__)


class WebhookRejected(Exception):
    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason


@dataclass(frozen=True)
class ApplySummary:
    outputs_created: int = 0
    duplicates: int = 0
    status: str = ""


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; PostgreSQL's jsonb would refuse them later with a 500.
    raise ValueError(f"{name} is not a valid JSON value")


def webhook_receive(*, generation_id: int, secret: str, body: bytes, remote_addr: str | None) -> WebhookEvent:
    """Authenticate and store one webhook body; processing happens in the background after commit."""
    generation = (
        Generation.objects.filter(pk=generation_id).only("id", "task_uuid", "webhook_secret_hashes").first()
    )
    if generation is None or not generations.webhook_secret_matches(generation, secret):
        raise WebhookRejected(404, "Unknown webhook URL.")
    try:
        payload = json.loads(body, parse_constant=_reject_constant)
        results = spec.parse_envelope(payload)
    except (ValueError, TypeError) as exc:
        raise WebhookRejected(400, f"Malformed webhook body: {exc}") from exc
    if not results:
        raise WebhookRejected(400, "The webhook body holds no result.")
    foreign = {result.task_uuid for result in results} - {str(generation.task_uuid)}
    if foreign:
        raise WebhookRejected(403, "The body's taskUUID does not belong to this generation.")
    with transaction.atomic():
        event = WebhookEvent.objects.create(generation=generation, body=payload, remote_addr=remote_addr)
        from animate import tasks

        # The task row commits with the event: one write, and no stored event without its processing.
        tasks.process_webhook_event.enqueue(event.pk)
    return event


def webhook_event_process(*, event_id: int) -> ApplySummary | None:
    """Apply one stored webhook body. Returns None when it must wait for an earlier body of the same
    generation: a generation's webhooks are applied in arrival order, so an error that Runware sends
    after a success cannot overtake that success while its video is still downloading."""
    event = WebhookEvent.objects.select_related("generation").get(pk=event_id)
    if event.status != WebhookEvent.Status.RECEIVED:
        return ApplySummary(status=event.generation.status)
    stale = timezone.now() - timedelta(seconds=float(getattr(settings, "ANIMATE_WEBHOOK_CLAIM_SECONDS", 300)))
    earlier = WebhookEvent.objects.filter(generation_id=event.generation_id, pk__lt=event_id).filter(
        Q(status=WebhookEvent.Status.RECEIVED)
        | Q(status=WebhookEvent.Status.PROCESSING, started_at__gt=stale)
    )
    if earlier.exists():
        return None
    results = spec.parse_envelope(event.body)
    if not any(result.status == "success" for result in results):
        # Status-only bodies need no I/O: claim, apply and close them in one short write transaction.
        with transaction.atomic():
            return _apply_event(event, results)
    return _apply_event(event, results)


def _apply_event(event: WebhookEvent, results: list[spec.VideoResult]) -> ApplySummary:
    event_id = event.pk
    claimed = WebhookEvent.objects.filter(pk=event_id, status=WebhookEvent.Status.RECEIVED).update(
        status=WebhookEvent.Status.PROCESSING, started_at=timezone.now()
    )
    if not claimed:
        return ApplySummary(status=event.generation.status)
    try:
        summary = results_apply(generation_id=event.generation_id, results=results)
    except Exception as exc:
        WebhookEvent.objects.filter(pk=event_id).update(
            status=WebhookEvent.Status.FAILED,
            detail=f"{type(exc).__name__}: {exc}"[:255],
            processed_at=timezone.now(),
        )
        raise
    detail = f"{summary.outputs_created} new output(s), {summary.duplicates} duplicate(s)"
    status = (
        WebhookEvent.Status.PROCESSED
        if summary.outputs_created or not summary.duplicates
        else WebhookEvent.Status.IGNORED
    )
    WebhookEvent.objects.filter(pk=event_id).update(status=status, detail=detail, processed_at=timezone.now())
    return summary


def results_apply(*, generation_id: int, results: list[spec.VideoResult]) -> ApplySummary:
    """Apply results in order. A result whose video cannot be fetched right now does not stop the others;
    the first such failure is raised once all are applied, so the caller can retry later."""
    task_uuid = str(Generation.objects.values_list("task_uuid", flat=True).get(pk=generation_id))
    created = duplicates = 0
    deferred: DownloadFailed | None = None
    for result in results:
        if result.task_uuid and result.task_uuid != task_uuid:
            logger.warning("Ignoring a result of task %s for generation %s", result.task_uuid, generation_id)
            continue
        if result.status == "processing":
            _move(generation_id, Generation.Status.PROCESSING)
        elif result.status == "error":
            if result.cost is not None:
                # Errors carry no videoUUID; Runware ends a task with one error, so one key per task.
                _charge(
                    generation_id,
                    key=f"{task_uuid}:error",
                    cost=result.cost,
                    kind=CostEntry.Kind.FAILED_CHARGED,
                )
            _move(
                generation_id,
                Generation.Status.FAILED,
                error_code=result.error_code or "error",
                error_message=result.error_message or "Runware reported an error for this task.",
            )
        elif result.status == "success":
            try:
                if result_ingest(generation_id=generation_id, result=result):
                    created += 1
                else:
                    duplicates += 1
            except DownloadFailed as exc:
                logger.warning(
                    "Result %s of generation %s not fetched yet: %s", result.video_uuid, generation_id, exc
                )
                deferred = deferred or exc
    if deferred is not None:
        raise deferred
    status = Generation.objects.values_list("status", flat=True).get(pk=generation_id)
    return ApplySummary(outputs_created=created, duplicates=duplicates, status=status)


def _move(generation_id: int, status: str, **kwargs: str) -> bool:
    with transaction.atomic():
        generation = Generation.objects.select_for_update().get(pk=generation_id)
        return generations.generation_transition(generation, status, **kwargs)


def result_ingest(*, generation_id: int, result: spec.VideoResult) -> bool:
    """Store one successful result; True if it created the output, False if it was already there."""
    if not result.video_uuid:
        raise ValueError("a successful result without videoUUID")
    generation = Generation.objects.get(pk=generation_id)
    key = f"{generation.task_uuid}:{result.video_uuid}"
    if result.cost is not None:
        # Runware charged for this result whether or not its video ever reaches our storage.
        _charge(generation_id, key=key, cost=result.cost, video_uuid=result.video_uuid)
    output = Output.objects.filter(generation=generation, video_uuid=result.video_uuid).first()
    created = output is None
    if output is None:
        _move(generation_id, Generation.Status.RECEIVING)
        try:
            if result.video_url:
                downloaded = download_provider_file(url=result.video_url)
            else:
                downloaded = decode_inline_video(
                    base64_data=result.video_base64_data, data_uri=result.video_data_uri
                )
        except DownloadRejected as exc:
            _move(
                generation_id, Generation.Status.FAILED, error_code="resultRejected", error_message=str(exc)
            )
            raise
        try:
            output = output_store(
                generation=generation,
                video_uuid=result.video_uuid,
                path=downloaded.path,
                content_type=downloaded.content_type,
                seed=result.seed,
                nsfw=bool(result.nsfw_content),
                cost=result.cost,
            )
        except MediaRejected as exc:
            _move(
                generation_id,
                Generation.Status.FAILED,
                error_code="resultUnreadable",
                error_message=exc.message,
            )
            raise
    _record(generation_id=generation_id, output=output, announce=created)
    return created


def _charge(
    generation_id: int,
    *,
    key: str,
    cost: Decimal,
    kind: str = CostEntry.Kind.RESULT,
    video_uuid: str | None = None,
) -> None:
    """One ledger row per charged result (unique key); the generation's actual cost sits beside its
    estimate."""
    with transaction.atomic():
        generation = Generation.objects.select_for_update().select_related("video").get(pk=generation_id)
        if CostEntry.objects.filter(key=key).exists():
            return
        CostEntry.objects.create(
            key=key,
            kind=kind,
            video_uuid=video_uuid,
            amount=cost,
            **ledger.entry_facts(generation),
        )
        total = generation.cost_entries.filter(flagged=False).aggregate(total=Sum("amount"))["total"]
        generation.actual_cost = ledger.amount_total(total)
        # The reservation is released to the actual charge as it arrives.
        generation.reserved_cost = budgets.reservation_left(generation)
        generation.save(update_fields=["actual_cost", "reserved_cost", "updated_at"])
        budgets.budget_alerts_check(team=generation.team_id, user_id=generation.created_by_id)


def _record(*, generation_id: int, output: Output, announce: bool) -> None:
    """Announce a stored output and move the status, in one transaction."""
    with transaction.atomic():
        generation = Generation.objects.select_for_update().get(pk=generation_id)
        if announce:
            # The board chosen at submit time gets the result in the same commit that announces it.
            boards.board_autoadd(output=output)
            # The output is announced before the status that counts it, so a browser that sees "done"
            # has already been told about every output.
            events.publish_on_commit(events.team_group(generation.team_id), output_event(output))
        received = generation.outputs.count()
        target = (
            Generation.Status.DONE if received >= generation.number_results else Generation.Status.RECEIVING
        )
        moved = generations.generation_transition(generation, target)
        if announce and not moved:
            # "k of n results" changed even though the status did not.
            generations.publish_status(generation)


def output_event(output: Output) -> dict[str, Any]:
    return {
        "type": "generation.output",
        "id": output.generation_id,
        "output": {
            "id": output.pk,
            "video_uuid": str(output.video_uuid),
            "url": reverse("media-output", kwargs={"pk": output.pk}),
            "poster": reverse("media-output-poster", kwargs={"pk": output.pk}) if output.poster else None,
            "seed": output.seed,
            "nsfw": output.nsfw,
            "cost": str(output.cost) if output.cost is not None else None,
            "width": output.width,
            "height": output.height,
            "duration": output.duration,
        },
    }


def generation_poll(*, generation_id: int) -> bool:
    """Ask Runware for the cumulative state and apply it; True once the generation is terminal."""
    from animate.runware.client import RunwareError, RunwareTransportError
    from animate.services.submission import runware_client

    generation = Generation.objects.get(pk=generation_id)
    if generation.is_terminal:
        return True
    Generation.objects.filter(pk=generation_id).update(poll_attempts=generation.poll_attempts + 1)
    client = runware_client()
    try:
        batch = client.get_response(str(generation.task_uuid))
    except (RunwareTransportError, RunwareError) as exc:
        logger.warning("Polling generation %s failed: %s", generation_id, exc)
        return _give_up_if_overdue(generation)
    finally:
        client.close()
    results = []
    for item in [*batch.data, *batch.errors]:
        try:
            results.append(spec.parse_result(item))
        except ValueError as exc:
            # One unreadable item must not hide the others; the next poll sees it again.
            logger.warning("Skipping an unreadable result of generation %s: %s", generation_id, exc)
    # A video that could not be fetched is logged where it happened; the next poll fetches it again,
    # until the give-up time.
    with contextlib.suppress(DownloadFailed):
        results_apply(generation_id=generation_id, results=results)
    generation.refresh_from_db()
    return generation.is_terminal or _give_up_if_overdue(generation)


def _give_up_if_overdue(generation: Generation) -> bool:
    give_up = float(getattr(settings, "ANIMATE_POLL_GIVE_UP_SECONDS", 3 * 3600))
    if generation.submitted_at and (timezone.now() - generation.submitted_at).total_seconds() > give_up:
        _move(
            generation.pk,
            Generation.Status.FAILED,
            error_code="timeout",
            error_message=f"No complete result from Runware within {int(give_up // 60)} minutes.",
        )
        return True
    return False
