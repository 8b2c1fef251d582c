"""Re-arming background work after a crash, so an unfinished generation is never forgotten.

Every piece of background work is an idempotent task keyed by a row: submitting (same taskUUID, a
conflict on re-send means "already accepted"), polling (applies cumulative state) and webhook processing
(outputs and ledger rows are unique). Re-enqueuing work that may still be pending elsewhere is therefore
safe; it is still skipped when a ready or running task for the same row exists, to avoid needless calls.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from animate import tasks
from animate.models import Generation, WebhookEvent
from animate.services.submission import schedule_poll

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecoverySummary:
    abandoned_tasks: int = 0
    submits: int = 0
    polls: int = 0
    webhook_events: int = 0  # generations whose stored webhook bodies are applied again


def _pending(task: Any) -> set[int]:
    """Row ids (each task's first argument) that already have a ready or running task of this kind."""
    rows = DBTaskResult.objects.filter(
        task_path=task.module_path, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
    ).values_list("args_kwargs", flat=True)
    return {row["args"][0] for row in rows if row.get("args")}


def tasks_abandon_running(*, worker_prefix: str | None = None, started_before: datetime | None = None) -> int:
    """Mark as failed the tasks left RUNNING by workers that are gone, so their rows get new tasks.

    Two ways to know a worker is gone: its id has the prefix of the embedded workers when the single
    embedded process starts (none of its workers can be alive yet), or the task has been running longer
    than any task can (a lease, for worker processes killed in scale-out mode).
    """
    abandoned = 0
    for result in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING):
        by_prefix = worker_prefix is not None and str((result.worker_ids or [""])[-1]).startswith(
            worker_prefix
        )
        expired = (
            started_before is not None
            and result.started_at is not None
            and result.started_at < started_before
        )
        if by_prefix or expired:
            result.set_failed(RuntimeError("the worker running this task stopped"))
            abandoned += 1
    return abandoned


def generations_recover() -> RecoverySummary:
    """Give every unfinished generation and unprocessed webhook its background task again."""
    pending_submits = _pending(tasks.submit_generation)
    pending_polls = _pending(tasks.poll_generation)
    pending_events = _pending(tasks.process_webhook_events)
    submits = polls = events = 0
    with transaction.atomic():
        for generation_id in Generation.objects.filter(status=Generation.Status.QUEUED).values_list(
            "id", flat=True
        ):
            if generation_id not in pending_submits:
                tasks.submit_generation.enqueue(generation_id)
                submits += 1
        active = Generation.objects.exclude(status__in=[Generation.Status.QUEUED, *Generation.TERMINAL])
        for generation_id in active.values_list("id", flat=True):
            if generation_id not in pending_polls:
                # Poll at once: whatever happened while nothing was polling is already at Runware.
                schedule_poll(generation_id, attempt=0, delay=0)
                polls += 1
        unprocessed = WebhookEvent.objects.filter(
            status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.PROCESSING]
        )
        # Processing that died with its worker is safe to apply again (idempotent ingestion).
        unprocessed.filter(status=WebhookEvent.Status.PROCESSING).exclude(
            generation_id__in=pending_events
        ).update(status=WebhookEvent.Status.RECEIVED, started_at=None)
        waiting = set(unprocessed.values_list("generation_id", flat=True)) - pending_events
        for generation_id in sorted(waiting):
            Generation.objects.filter(pk=generation_id).update(webhook_drain_queued=True)
            tasks.process_webhook_events.enqueue(generation_id)
            events += 1
    summary = RecoverySummary(submits=submits, polls=polls, webhook_events=events)
    if submits or polls or events:
        logger.info("Recovered background work: %s", summary)
    return summary
