"""Polling Runware's getResponse for a generation: the cumulative state, applied like any delivery.

Polling runs beside the webhooks (which may never come, or be lost): each look applies Runware's
cumulative answer through ``ingest.response_apply``. A task Runware no longer knows ends failed after
``ANIMATE_UNKNOWN_TASK_SECONDS``; a run with no complete result after ``ANIMATE_POLL_GIVE_UP_SECONDS``
ends failed too.
"""

import contextlib
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from animate.models import Generation
from animate.runware import spec
from animate.services import generations
from animate.services.downloads import DownloadFailed
from animate.services.ingest import response_apply

logger = logging.getLogger(__name__)


# Runware's answer to getResponse for a task it does not know (or no longer knows): the category code of
# Runware's own SDK (``taskFailedOrNotFound``, runware-python errors.py); see docs/runware-protocol.md.
UNKNOWN_TASK_CODES = frozenset({"taskFailedOrNotFound", "taskNotFound"})


def unknown_task_seconds() -> float:
    """How long Runware may answer "unknown task" before the run is failed (ANIMATE_UNKNOWN_TASK_SECONDS)."""
    return float(getattr(settings, "ANIMATE_UNKNOWN_TASK_SECONDS", 600))


def generation_poll(*, generation_id: int, check: bool = False) -> bool:
    """Ask Runware for the cumulative state and apply it; True once the generation is terminal.

    ``check`` (an admin's "check now", or a one-off look after a webhook error) asks even about an ended
    run, whose late results are still stored and charged."""
    from animate.runware.client import RunwareError, RunwareTransportError
    from animate.services.submission import runware_client

    generation = Generation.objects.get(pk=generation_id)
    if generation.is_terminal and not check:
        return True
    if generation.status == Generation.Status.QUEUED:
        return False  # not sent yet: Runware cannot know it
    Generation.objects.filter(pk=generation_id).update(poll_attempts=generation.poll_attempts + 1)
    client = runware_client()
    try:
        batch = client.get_response(str(generation.task_uuid))
    except RunwareError as exc:
        if exc.code in UNKNOWN_TASK_CODES:
            return generation.is_terminal or _unknown_task(generation_id, code=exc.code)
        logger.warning("Polling generation %s failed: %s", generation_id, exc)
        return _give_up_if_overdue(generation)
    except RunwareTransportError as exc:
        logger.warning("Polling generation %s failed: %s", generation_id, exc)
        return _give_up_if_overdue(generation)
    finally:
        client.close()
    results = []
    unknown = None
    for item in [*batch.data, *batch.errors]:
        try:
            result = spec.parse_result(item)
        except ValueError as exc:
            # One unreadable item must not hide the others; the next poll sees it again.
            logger.warning("Skipping an unreadable result of generation %s: %s", generation_id, exc)
            continue
        if result.status == "error" and result.error_code in UNKNOWN_TASK_CODES:
            unknown = result.error_code  # not an error of the task: Runware has lost track of it
            continue
        results.append(result)
    if unknown and not results:
        return generation.is_terminal or _unknown_task(generation_id, code=unknown)
    if generation.unknown_since is not None:
        Generation.objects.filter(pk=generation_id).update(unknown_since=None)
    # A video that could not be fetched is logged where it happened; the next poll fetches it again,
    # until the give-up time.
    with contextlib.suppress(DownloadFailed):
        response_apply(generation_id=generation_id, results=results)
    generation.refresh_from_db()
    return generation.is_terminal or _give_up_if_overdue(generation)


def _unknown_task(generation_id: int, *, code: str) -> bool:
    """Runware says it does not know the task: noted the first time, failed once that has lasted
    ``unknown_task_seconds`` (a task just accepted may not be visible everywhere at once, so one answer is
    not enough). True when the run is now terminal."""
    limit = unknown_task_seconds()
    now = timezone.now()
    with transaction.atomic():
        generation = Generation.objects.select_for_update().get(pk=generation_id)
        if generation.is_terminal:
            return True
        if generation.unknown_since is None:
            generation.unknown_since = now
            generation.save(update_fields=["unknown_since", "updated_at"])
            generations.publish_status(generation)
        if (now - generation.unknown_since).total_seconds() < limit:
            return False
        minutes = max(1, round(limit / 60))
        generations.generation_transition(
            generation,
            Generation.Status.FAILED,
            error_code=code,
            error_message=f"Runware no longer knows this task (it answered {code} for {minutes} min); "
            "no result can come for it.",
        )
    return True


def _give_up_if_overdue(generation: Generation) -> bool:
    give_up = float(getattr(settings, "ANIMATE_POLL_GIVE_UP_SECONDS", 3 * 3600))
    if generation.submitted_at and (timezone.now() - generation.submitted_at).total_seconds() > give_up:
        generations.generation_advance(
            generation.pk,
            Generation.Status.FAILED,
            error_code="timeout",
            error_message=f"No complete result from Runware within {int(give_up // 60)} minutes.",
        )
        return True
    return False
