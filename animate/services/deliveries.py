"""The webhook delivery log: what Runware sent, whether it was authentic, and what applying it did.

Authentic bodies are stored as ``WebhookEvent`` rows before processing (``services.ingest``); refused
ones (wrong secret, another task's taskUUID, too large, unreadable) are only counted per generation, so
a flood of forged requests cannot fill the database with bodies. A replay stores the same body again as
a new event and applies it through the same ingestion path, which is idempotent: a replay changes
nothing that was already applied.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from animate.models import AuditEvent, Generation, Membership, WebhookEvent, WebhookRejection
from animate.services.audit import audit_record
from animate.services.webhook_events import webhook_drain_schedule

# The webhook view's answer -> why the delivery was refused.
REJECTION_BY_STATUS = {
    404: WebhookRejection.Reason.SECRET,
    403: WebhookRejection.Reason.FOREIGN_TASK,
    413: WebhookRejection.Reason.OVERSIZE,
    400: WebhookRejection.Reason.MALFORMED,
}


class DeliveryNotFound(Exception):
    pass


def delivery_rejected(*, generation_id: int, status: int) -> None:
    """Count one refused delivery for the generation its URL names (nothing for an unknown id)."""
    reason = REJECTION_BY_STATUS.get(status)
    if reason is None:
        return
    now = timezone.now()
    counted = WebhookRejection.objects.filter(generation_id=generation_id, reason=reason).update(
        count=F("count") + 1, last_at=now
    )
    if counted or not Generation.objects.filter(pk=generation_id).exists():
        return
    try:
        with transaction.atomic():
            WebhookRejection.objects.create(generation_id=generation_id, reason=reason, count=1)
    except IntegrityError:
        # Another refused delivery created the row first.
        WebhookRejection.objects.filter(generation_id=generation_id, reason=reason).update(
            count=F("count") + 1, last_at=now
        )


def deliveries_for(membership: Membership) -> QuerySet[WebhookEvent]:
    return (
        WebhookEvent.objects.filter(generation__team_id=membership.team_id)
        .select_related("generation", "replayed_by")
        .order_by("-received_at", "-pk")
    )


def rejections_for(membership: Membership) -> QuerySet[WebhookRejection]:
    return (
        WebhookRejection.objects.filter(generation__team_id=membership.team_id)
        .select_related("generation")
        .order_by("-last_at", "-pk")
    )


@dataclass(frozen=True)
class DeliveryFacts:
    event: WebhookEvent
    latency: timedelta | None  # from our submit to Runware's call
    processing: timedelta | None  # from the start to the end of applying it

    @property
    def verification(self) -> str:
        return "Replayed by an admin" if self.event.replay_of_id else "Verified (secret and taskUUID)"

    @property
    def latency_seconds(self) -> float | None:
        return round(self.latency.total_seconds(), 3) if self.latency is not None else None

    @property
    def processing_ms(self) -> int | None:
        return round(self.processing.total_seconds() * 1000) if self.processing is not None else None


def delivery_facts(event: WebhookEvent) -> DeliveryFacts:
    submitted = event.generation.submitted_at
    latency = event.received_at - submitted if submitted and not event.replay_of_id else None
    processing = event.processed_at - event.started_at if event.processed_at and event.started_at else None
    return DeliveryFacts(event=event, latency=latency, processing=processing)


def delivery_get(*, membership: Membership, event_id: Any) -> WebhookEvent:
    try:
        pk = int(event_id)
    except (TypeError, ValueError):
        raise DeliveryNotFound from None
    event = deliveries_for(membership).filter(pk=pk).first()
    if event is None:
        raise DeliveryNotFound
    return event


def delivery_replay(
    *, membership: Membership, event_id: Any, actor: AbstractBaseUser, ip: str | None = None
) -> WebhookEvent:
    """Apply a stored body again, as a new delivery, through the same ingestion path. Admins only."""
    if not membership.is_admin:
        raise PermissionError("Only team admins can replay deliveries.")
    original = delivery_get(membership=membership, event_id=event_id)
    with transaction.atomic():
        replay = WebhookEvent.objects.create(
            generation_id=original.generation_id, body=original.body, replay_of=original, replayed_by=actor
        )
        audit_record(
            action=AuditEvent.Action.WEBHOOK_REPLAYED,
            team=membership.team_id,
            actor=actor,
            target=original,
            target_type="webhook_event",
            detail={"replay": replay.pk, "generation": original.generation_id},
            ip=ip,
        )
        # Applied in its generation's order by the generation's drain (queued unless it already is).
        webhook_drain_schedule(original.generation_id)
    return replay
