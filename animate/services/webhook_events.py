"""Runware's webhook bodies: authenticated, stored as they arrive, then applied in arrival order.

A body is stored before anything is done with it (store-then-process): the receiver answers 2xx as soon
as the row commits, and one task per generation (``webhook_events_drain``) applies the stored bodies in
arrival order through ``ingest.results_apply``, a bounded batch at a time so a storm for one generation
never holds up the others. An identical body delivered again is counted on the first copy and queues
nothing (``webhook_event_store``).
"""

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from animate.models import Generation, WebhookEvent
from animate.runware import spec
from animate.services import generations, ingest
from animate.services.ingest import ApplySummary

logger = logging.getLogger(__name__)


class WebhookRejected(Exception):
    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason


@dataclass(frozen=True)
class WebhookReceipt:
    event_id: int
    # An identical body was already stored (and not failed): counted on it, nothing queued.
    duplicate: bool = False


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; PostgreSQL's jsonb would refuse them later with a 500.
    raise ValueError(f"{name} is not a valid JSON value")


def webhook_receive(
    *, generation_id: int, secret: str, body: bytes, remote_addr: str | None
) -> WebhookReceipt:
    """Authenticate and store one webhook body; processing happens in the background after commit."""
    # Not .first(): the hottest path of the app needs no ORDER BY (nor the time to compile one).
    found = Generation.objects.only("id", "task_uuid", "webhook_secret_hashes").filter(pk=generation_id)
    generation = next(iter(found), None)
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
    return webhook_event_store(generation_id=generation.pk, payload=payload, remote_addr=remote_addr)


def body_digest(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def webhook_event_store(*, generation_id: int, payload: Any, remote_addr: str | None) -> WebhookReceipt:
    """Store an authentic body and queue its processing; an identical body stored before is only counted.

    A replay (Runware retrying, or anyone who holds the URL re-sending it) then costs an indexed lookup
    and one counter update: no row, no task, nothing for the worker to wait on. A copy whose processing
    failed does not count: the replay is stored and applied again.
    """
    digest = body_digest(payload)
    try:
        with transaction.atomic():
            # The live copy of a body is unique (a partial unique constraint): a replay fails here, at the
            # cost of an index probe, and is counted below.
            event = WebhookEvent.objects.create(
                generation_id=generation_id, body=payload, body_sha256=digest, remote_addr=remote_addr
            )
            # The task row commits with the event: no stored event without its processing.
            webhook_drain_schedule(generation_id)
        return WebhookReceipt(event_id=event.pk)
    except IntegrityError:
        original = _live_copy(generation_id, digest)
        if original is None:
            raise
    WebhookEvent.objects.filter(pk=original).update(
        duplicates=F("duplicates") + 1, last_duplicate_at=timezone.now()
    )
    return WebhookReceipt(event_id=original, duplicate=True)


def _live_copy(generation_id: int, digest: str) -> int | None:
    live = WebhookEvent.objects.filter(generation_id=generation_id, body_sha256=digest)
    return live.exclude(status=WebhookEvent.Status.FAILED).values_list("pk", flat=True).first()


def webhook_drain_schedule(generation_id: int) -> None:
    """Queue the task that applies the generation's webhook bodies, unless one is queued already.

    The generation's row is locked whatever the flag says, until the caller's transaction (which stores
    the body) commits: a drain's claim (``_claim_batch``) locks the same row first, so it either runs
    before this and leaves the flag down for this to queue a run, or waits and then sees the new body.
    Updating only ``WHERE webhook_drain_queued = false`` would lock nothing while the flag is up, and on
    PostgreSQL a claim could then read the bodies just before this one commits and lower the flag just
    after, leaving the body stored with no run to apply it.
    """
    # No savepoint: inside the caller's transaction a failure here rolls the whole store back anyway,
    # and a savepoint's two statements are a third of the hottest path's.
    with transaction.atomic(savepoint=False):
        queued = next(
            iter(
                Generation.objects.select_for_update()
                .filter(pk=generation_id)
                .values_list("webhook_drain_queued", flat=True)
            ),
            None,
        )
        if queued is False:
            Generation.objects.filter(pk=generation_id).update(webhook_drain_queued=True)
            from animate import tasks  # tasks import services; imported here to keep the direction one-way

            tasks.process_webhook_events.enqueue(generation_id)


def _claim_expired() -> Any:
    return timezone.now() - timedelta(seconds=float(getattr(settings, "ANIMATE_WEBHOOK_CLAIM_SECONDS", 300)))


def webhook_events_drain(*, generation_id: int) -> str:
    """Apply a generation's stored webhook bodies in arrival order, a bounded batch at a time.

    Returns ``drained`` (nothing left), ``yielded`` (the batch is used up: the rest is queued again, behind
    other generations' work) or ``busy`` (another run is applying this generation's bodies: this one
    comes back shortly).

    Bodies are applied one after the other so that an error Runware sends after a success cannot overtake
    that success while its video is still downloading.
    """
    batch = int(getattr(settings, "ANIMATE_WEBHOOK_DRAIN_BATCH", 20))
    deadline = time.monotonic() + float(getattr(settings, "ANIMATE_WEBHOOK_DRAIN_SECONDS", 1.0))
    applied = 0
    while True:
        if applied >= batch or time.monotonic() > deadline:
            if WebhookEvent.objects.filter(
                generation_id=generation_id, status=WebhookEvent.Status.RECEIVED
            ).exists():
                webhook_drain_schedule(generation_id)
                return "yielded"
            return "drained"
        limit = batch - applied
        claimed = _claim_batch(generation_id, limit=limit)
        if claimed is None:
            # Another run is applying this generation's bodies and may finish without seeing the ones
            # that queued this run: look again shortly (as the queued run, so nothing queues another).
            from animate import tasks

            retry = timezone.now() + timedelta(
                seconds=float(getattr(settings, "ANIMATE_WEBHOOK_BUSY_RETRY", 0.25))
            )
            tasks.process_webhook_events.using(run_after=retry).enqueue(generation_id)
            return "busy"
        if not claimed:
            return "drained"
        for event in claimed:
            try:
                _apply_claimed(event, spec.parse_envelope(event.body))
            except Exception as exc:
                # Marked failed with its reason, so the next body's turn comes; a video that could not
                # be fetched is fetched again by polling.
                logger.exception("Webhook event %s of generation %s failed", event.pk, generation_id)
                WebhookEvent.objects.filter(pk=event.pk, status=WebhookEvent.Status.PROCESSING).update(
                    status=WebhookEvent.Status.FAILED,
                    detail=f"{type(exc).__name__}: {exc}"[:255],
                    processed_at=timezone.now(),
                )
        applied += len(claimed)
        if len(claimed) < limit:
            # Every body stored since the claim has queued another run (the claim re-armed it).
            return "drained"


def _claim_batch(generation_id: int, *, limit: int) -> list[WebhookEvent] | None:
    """Take the oldest ``limit`` received bodies of the generation for this run, in one write; None when
    another run holds some. The first update of the generation's row locks it, so claims of one
    generation are made one at a time and two runs never both hold its bodies."""
    with transaction.atomic():
        # Locks the generation's row; re-armed only once this run knows it is the one applying bodies.
        Generation.objects.filter(pk=generation_id).update(webhook_drain_queued=True)
        events = WebhookEvent.objects.filter(generation_id=generation_id)
        if events.filter(status=WebhookEvent.Status.PROCESSING, started_at__gt=_claim_expired()).exists():
            return None  # the flag stays up: this run comes back (webhook_events_drain)
        # Re-armed before looking: a body stored from now on queues another run.
        Generation.objects.filter(pk=generation_id).update(webhook_drain_queued=False)
        claimed = list(events.filter(status=WebhookEvent.Status.RECEIVED).order_by("pk")[:limit])
        if claimed:
            WebhookEvent.objects.filter(pk__in=[event.pk for event in claimed]).update(
                status=WebhookEvent.Status.PROCESSING, started_at=timezone.now()
            )
    return claimed


def webhook_event_apply(*, event: WebhookEvent) -> ApplySummary:
    """Claim one stored body and apply it; a body another run has claimed is left to it."""
    return _apply_event(event, spec.parse_envelope(event.body))


def _apply_event(event: WebhookEvent, results: list[spec.VideoResult]) -> ApplySummary:
    claimed = WebhookEvent.objects.filter(pk=event.pk, status=WebhookEvent.Status.RECEIVED).update(
        status=WebhookEvent.Status.PROCESSING, started_at=timezone.now()
    )
    if not claimed:
        return ApplySummary()
    return _apply_claimed(event, results)


def _apply_claimed(event: WebhookEvent, results: list[spec.VideoResult]) -> ApplySummary:
    """Apply a body this run has claimed (it is ``processing``) and close it."""
    event_id = event.pk
    if not any(result.status == "success" for result in results):
        # Status-only bodies need no I/O: applied and closed in one short write transaction.
        with transaction.atomic():
            return _apply_results(event_id, event.generation_id, results)
    return _apply_results(event_id, event.generation_id, results)


def _apply_results(event_id: int, generation_id: int, results: list[spec.VideoResult]) -> ApplySummary:
    try:
        summary = ingest.results_apply(generation_id=generation_id, results=results)
    except Exception as exc:
        WebhookEvent.objects.filter(pk=event_id).update(
            status=WebhookEvent.Status.FAILED,
            detail=f"{type(exc).__name__}: {exc}"[:255],
            processed_at=timezone.now(),
        )
        raise
    detail = f"{summary.outputs_created} new output(s), {summary.duplicates} duplicate(s)"
    if summary.anomalies:
        detail += f", {len(summary.anomalies)} anomal{'y' if len(summary.anomalies) == 1 else 'ies'}"
    status = (
        WebhookEvent.Status.PROCESSED
        if summary.outputs_created or summary.anomalies or not summary.duplicates
        else WebhookEvent.Status.IGNORED
    )
    WebhookEvent.objects.filter(pk=event_id).update(
        status=status,
        detail=detail,
        anomaly="; ".join(summary.anomalies)[:255],
        processed_at=timezone.now(),
    )
    return summary
