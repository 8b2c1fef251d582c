"""What people do to a run once it is submitted: an admin's "check now" and "stop waiting", and its
creator's "dismiss" from "Your runs".

Runware has no cancel: stopping waiting only ends the run on our side. Runware may still finish it and
charge for it; such a late result is still stored and its cost recorded (``ingest.result_places`` keeps a
place for it), and the page says so.
"""

from django.db import transaction
from django.utils import timezone

from animate.models import AuditEvent, Generation, Membership
from animate.services import generations, polling
from animate.services.audit import audit_record
from animate.services.teams import NotAllowed

STOPPED_CODE = "stoppedWaiting"


class RunNotFound(Exception):
    """No such run in the member's team (or, for dismissing, among the member's own runs)."""


class RunActionRefused(Exception):
    """The run is not in a state this action applies to; the message says why."""


def _team_run(membership: Membership, generation_id: int) -> Generation:
    generation = Generation.objects.filter(pk=generation_id, team_id=membership.team_id).first()
    if generation is None:
        raise RunNotFound(generation_id)
    return generation


def _require_admin(membership: Membership) -> None:
    if not membership.is_admin:
        raise NotAllowed("Only team admins can check a run now or stop waiting for it.")


def generation_check_now(*, membership: Membership, generation_id: int, ip: str | None = None) -> Generation:
    """Ask Runware for the run's state at once and apply it (late results of an ended run included)."""
    _require_admin(membership)
    generation = _team_run(membership, generation_id)
    if generation.status == Generation.Status.QUEUED:
        raise RunActionRefused("The run has not been sent to Runware yet: there is nothing to ask about.")
    before = generation.status
    # The provider call and any download happen here, outside every transaction (ingest's own rule).
    polling.generation_poll(generation_id=generation.pk, check=True)
    generation.refresh_from_db()
    audit_record(
        action=AuditEvent.Action.RUN_CHECKED,
        team=membership.team_id,
        actor=membership.user,
        target=generation,
        detail={"before": before, "after": generation.status},
        ip=ip,
    )
    return generation


def generation_stop_waiting(
    *, membership: Membership, generation_id: int, ip: str | None = None
) -> Generation:
    """End a run still in flight as failed, "stopped waiting by <admin>"; its reservation is released."""
    _require_admin(membership)
    with transaction.atomic():
        generation = (
            Generation.objects.select_for_update()
            .filter(pk=generation_id, team_id=membership.team_id)
            .first()
        )
        if generation is None:
            raise RunNotFound(generation_id)
        if generation.is_terminal:
            raise RunActionRefused("The run has already ended: there is nothing to wait for.")
        name = membership.user.get_username()
        generations.generation_transition(
            generation,
            Generation.Status.FAILED,
            error_code=STOPPED_CODE,
            error_message=f"Stopped waiting by {name}. Runware has no cancel: the charge may still come, "
            "and a result that arrives later is still stored and charged.",
        )
        audit_record(
            action=AuditEvent.Action.RUN_ABANDONED,
            team=membership.team_id,
            actor=membership.user,
            target=generation,
            detail={"task_uuid": str(generation.task_uuid)},
            ip=ip,
        )
    return generation


def generation_dismiss(*, membership: Membership, generation_id: int) -> Generation:
    """Take one of the member's own ended runs off "Your runs"; it stays in the lists and the gallery."""
    with transaction.atomic():
        generation = (
            Generation.objects.select_for_update()
            .filter(pk=generation_id, team_id=membership.team_id, created_by=membership.user)
            .first()
        )
        if generation is None:
            raise RunNotFound(generation_id)
        if not generation.is_terminal:
            raise RunActionRefused("Only a finished or failed run can be dismissed.")
        if generation.dismissed_at is None:
            generation.dismissed_at = timezone.now()
            generation.save(update_fields=["dismissed_at", "updated_at"])
            # The user's other tabs take it off their "Your runs" too.
            generations.publish_status(generation)
    return generation
