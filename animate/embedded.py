"""Embedded mode: the database task worker runs as threads inside the ASGI server process.

The threads are started from the ASGI lifespan startup so events they publish can be handed to the
server's own event loop (see ``animate.events``), which is what makes the in-memory channel layer work
in a single process.
"""

import asyncio
import logging
import threading
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.crypto import get_random_string

from animate import events

logger = logging.getLogger(__name__)

WORKER_PREFIX = "embedded-"


def _wakeable_worker_class() -> type:
    from django_tasks_db.management.commands.db_worker import Worker

    class WakeableWorker(Worker):
        """The database worker, but its idle sleep ends as soon as a task is enqueued in this process.

        The stock worker polls every ``interval`` seconds; in one process we can do better and pick a
        webhook's processing up within milliseconds. ``Worker.run`` sleeps for ``self.interval`` when
        idle, so the wait happens when that value is read: block on the wake-up event (at most the
        configured interval, which still catches tasks deferred with ``run_after``), then sleep 0.
        """

        def __init__(self, **kwargs: Any) -> None:
            self.wake = threading.Event()
            super().__init__(**kwargs)

        @property  # type: ignore[override]
        def interval(self) -> float:
            if self.running:
                self.wake.wait(self._max_interval)
                self.wake.clear()
            return 0.0

        @interval.setter
        def interval(self, value: float) -> None:
            self._max_interval = value

    return WakeableWorker


def _wake_workers(**kwargs: Any) -> None:
    def wake() -> None:
        for worker in EmbeddedWorkers.active:
            worker.wake.set()

    # A task enqueued inside a transaction is visible to the workers only once it commits.
    transaction.on_commit(wake)


class EmbeddedWorkers:
    active: list[Any] = []
    _threads: list[threading.Thread] = []

    @classmethod
    def threads_alive(cls) -> list[threading.Thread]:
        """The worker threads of this process that are running (for /healthz)."""
        return [thread for thread in cls._threads if thread.is_alive()]

    def __init__(self) -> None:
        self.workers: list[Any] = []
        self.threads: list[threading.Thread] = []

    def start(self, count: int) -> None:
        from django_tasks.signals import task_enqueued

        worker_class = _wakeable_worker_class()
        task_enqueued.connect(_wake_workers, dispatch_uid="animate-embedded-wake")
        for index in range(count):
            worker = worker_class(
                queue_names=["*"],
                interval=float(getattr(settings, "EMBEDDED_WORKER_MAX_IDLE", 0.5)),
                batch=False,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id=f"{WORKER_PREFIX}{index}-{get_random_string(8)}",
                excluded_queue_names=[],
            )
            thread = threading.Thread(target=self._run, args=(worker,), name=worker.worker_id, daemon=True)
            self.workers.append(worker)
            self.threads.append(thread)
            EmbeddedWorkers.active.append(worker)
            EmbeddedWorkers._threads.append(thread)
            thread.start()
        logger.info("Started %d embedded task worker thread(s)", count)

    @staticmethod
    def _run(worker: Any) -> None:
        from django.db import connections

        try:
            worker.run()
        finally:
            connections.close_all()

    def stop(self, timeout: float = 10.0) -> None:
        for worker in self.workers:
            worker.running = False
            worker.wake.set()
            if worker in EmbeddedWorkers.active:
                EmbeddedWorkers.active.remove(worker)
        for thread in self.threads:
            thread.join(timeout)
            if thread in EmbeddedWorkers._threads:
                EmbeddedWorkers._threads.remove(thread)
        self.workers.clear()
        self.threads.clear()


def _recover() -> None:
    """Before the workers start: tasks left running by the previous embedded process died with it, and
    every unfinished generation gets its background work back."""
    from django.db import connections

    from animate.services import reconcile, recovery

    try:
        recovery.tasks_abandon_running(worker_prefix=WORKER_PREFIX)
        recovery.generations_recover()
        # The daily reconciliation with Runware re-queues itself; this arms it on a new database.
        reconcile.reconcile_schedule_next()
    finally:
        connections.close_all()


async def lifespan(scope: dict, receive: Any, send: Any) -> None:
    workers = EmbeddedWorkers()
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            from animate.health import startup_warnings_log

            startup_warnings_log()
            events.set_server_loop(asyncio.get_running_loop())
            if settings.EMBEDDED_WORKER:
                await asyncio.to_thread(_recover)
                await asyncio.to_thread(workers.start, settings.EMBEDDED_WORKER_THREADS)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await asyncio.to_thread(workers.stop)
            events.set_server_loop(None)
            await send({"type": "lifespan.shutdown.complete"})
            return
