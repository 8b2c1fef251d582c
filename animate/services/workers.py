"""Worker processes in scale-out mode: registration, heartbeats, handing a task back, and taking over
the work of a worker that stopped beating.

A worker beats every ``ANIMATE_WORKER_HEARTBEAT_SECONDS``; one that has not beaten for
``ANIMATE_WORKER_LEASE_SECONDS`` is taken as gone (killed, its machine lost) by whichever live worker
notices first: it is marked ``lost`` in one conditional update, so exactly one worker takes over; the
tasks it left running are marked failed and every unfinished generation gets its background work again
(``recovery.generations_recover``). All that work is idempotent, so a worker that was only slow, not
dead, does no harm by finishing what it had.
"""

import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from animate import tasks
from animate.models import Generation, WebhookEvent, WorkerProcess
from animate.services import leases, recovery, result_fetches

logger = logging.getLogger(__name__)


def heartbeat_seconds() -> float:
    return float(getattr(settings, "ANIMATE_WORKER_HEARTBEAT_SECONDS", 5))


def lease_seconds() -> float:
    return float(getattr(settings, "ANIMATE_WORKER_LEASE_SECONDS", 30))


def worker_transition(worker_id: str, status: str, **fields: object) -> bool:
    """Move a worker's row forward (see ``WorkerProcess.TRANSITIONS``); False when the move is not allowed
    from its current status (e.g. it was found lost meanwhile)."""
    target = WorkerProcess.Status(status)
    allowed = [source for source, targets in WorkerProcess.TRANSITIONS.items() if target in targets]
    if target in (WorkerProcess.Status.STOPPED, WorkerProcess.Status.LOST):
        fields.setdefault("stopped_at", timezone.now())
    return bool(
        WorkerProcess.objects.filter(worker_id=worker_id, status__in=allowed).update(status=target, **fields)
    )


def worker_register(worker_id: str) -> WorkerProcess:
    return WorkerProcess.objects.create(
        worker_id=worker_id, host=socket.gethostname(), pid=os.getpid(), beat_at=timezone.now()
    )


def worker_beat(worker_id: str, *, task_id: str, tasks_done: int) -> bool:
    """Record that the worker is alive and what it runs; False if it was declared lost meanwhile."""
    return bool(
        WorkerProcess.objects.filter(worker_id=worker_id, status__in=WorkerProcess.LIVE).update(
            beat_at=timezone.now(), task_id=task_id, tasks_done=tasks_done
        )
    )


def task_hand_back(*, worker_id: str, task_id: str) -> bool:
    """Give a task this worker is running back to the queue, with the webhook bodies it claimed and the
    submission leases this process holds, so another worker takes it all at once instead of after the
    leases run out."""
    with transaction.atomic():
        result = (
            DBTaskResult.objects.select_for_update()
            .filter(id=task_id, status=TaskResultStatus.RUNNING)
            .first()
        )
        # (worker_ids is a JSON list; SQLite has no JSON containment lookup, hence the check here.)
        handed = result is not None and result.worker_ids[-1:] == [worker_id]
        if handed:
            DBTaskResult.objects.filter(id=task_id).update(status=TaskResultStatus.READY, started_at=None)
            if result.task_path == tasks.process_webhook_events.module_path:
                # The bodies this run claimed go back with it: one run at a time holds a generation's
                # bodies, so its processing ones are this run's; left claimed, the next run would wait for
                # the claim to expire.
                WebhookEvent.objects.filter(
                    generation_id=result.args_kwargs["args"][0], status=WebhookEvent.Status.PROCESSING
                ).update(status=WebhookEvent.Status.RECEIVED, started_at=None)
        Generation.objects.filter(submit_lease_owner=leases.lease_owner()).exclude(
            submit_started_at=None
        ).update(submit_started_at=None)
        result_fetches.result_fetches_abandon(owner_prefix=leases.lease_owner())
    if handed:
        logger.warning("Worker %s handed task %s back to the queue", worker_id, task_id)
    return bool(handed)


@dataclass(frozen=True)
class ReapSummary:
    workers: tuple[str, ...] = ()
    tasks: int = 0
    recovered: recovery.RecoverySummary | None = None


def workers_reap() -> ReapSummary:
    """Take over from the workers whose heartbeat is older than the lease (see the module docstring)."""
    cutoff = timezone.now() - timedelta(seconds=lease_seconds())
    stale = WorkerProcess.objects.filter(status__in=WorkerProcess.LIVE, beat_at__lt=cutoff)
    reaped: list[str] = []
    tasks = 0
    for worker_id in stale.values_list("worker_id", flat=True):
        # Conditional on the beat still being stale: of two workers noticing at once, one takes over.
        if not WorkerProcess.objects.filter(
            worker_id=worker_id, status__in=WorkerProcess.LIVE, beat_at__lt=cutoff
        ).update(status=WorkerProcess.Status.LOST, stopped_at=timezone.now()):
            continue
        reaped.append(worker_id)
        lost = WorkerProcess.objects.get(worker_id=worker_id)
        # Its fetches in flight died with it (a claim names its process as host:pid:boot).
        result_fetches.result_fetches_abandon(owner_prefix=f"{lost.host}:{lost.pid}:")
        for result in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING):
            if result.worker_ids[-1:] == [worker_id]:
                result.set_failed(RuntimeError(f"worker {worker_id} stopped beating"))
                tasks += 1
    if not reaped:
        return ReapSummary()
    summary = recovery.generations_recover()
    logger.warning(
        "Took over from lost worker(s) %s: %d task(s) abandoned, %s", ", ".join(reaped), tasks, summary
    )
    return ReapSummary(workers=tuple(reaped), tasks=tasks, recovered=summary)


def workers_alive() -> list[WorkerProcess]:
    """Workers that beat within the lease."""
    cutoff = timezone.now() - timedelta(seconds=lease_seconds())
    return list(WorkerProcess.objects.filter(status__in=WorkerProcess.LIVE, beat_at__gte=cutoff))
