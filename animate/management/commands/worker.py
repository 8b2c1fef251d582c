"""A background worker process for scale-out mode: ``python manage.py worker [--grace 30]``.

It runs the django-tasks database worker loop (any number of these, on any machines sharing the
database), plus a heartbeat thread that records it alive in ``WorkerProcess`` and takes over from the
workers that stopped beating (``services.workers``).

SIGTERM (or Ctrl-C) stops it taking new tasks and lets the current one finish within ``--grace``
seconds; past that, or on a second signal, the task is handed back to the queue (its leases released)
and the process exits, so another worker starts it at once. The web processes then run with
``EMBEDDED_WORKER=0``.
"""

import logging
import os
import signal
import socket
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connections
from django.utils.crypto import get_random_string

from animate.services import reconcile, workers

logger = logging.getLogger("animate.worker")


def _worker_class() -> type:
    from django_tasks_db.management.commands.db_worker import Worker

    class ScaleOutWorker(Worker):
        def __init__(self, *, grace: float, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.grace = grace
            self.current_task_id = ""
            self.lost = False
            self._stop = threading.Event()
            self._exit_lock = threading.Lock()
            self._grace_timer: threading.Timer | None = None

        # --- signals ------------------------------------------------------------------------------

        def shutdown(self, signum: int, frame: FrameType | None) -> None:
            # Only flags and a timer here: the signal may arrive in the middle of a database call of
            # this very thread, so the database is written by the heartbeat thread and on the way out.
            name = signal.strsignal(signum)
            if not self.running:
                logger.warning("Received %s again: handing the current task back", name)
                threading.Thread(target=self.hand_back_and_exit, daemon=True).start()
                return
            self.running = False
            if not self.running_task:
                logger.warning("Received %s: stopping (idle)", name)
                return  # the loop ends after its short idle wait
            logger.warning(
                "Received %s: finishing task %s (at most %.0f s, then it is handed back)",
                name,
                self.current_task_id,
                self.grace,
            )
            self._grace_timer = threading.Timer(self.grace, self.hand_back_and_exit)
            self._grace_timer.daemon = True
            self._grace_timer.start()

        def hand_back_and_exit(self) -> None:
            """Give the running task back and leave without finishing it (from any thread)."""
            with self._exit_lock:
                task_id = self.current_task_id
                if task_id:
                    workers.task_hand_back(worker_id=self.worker_id, task_id=task_id)
                self._finish()
                connections.close_all()
                os._exit(0)  # the task's thread is mid-I/O: nothing else may run after the hand-back

        def _finish(self) -> None:
            if self._grace_timer is not None and threading.current_thread() is not self._grace_timer:
                self._grace_timer.cancel()
            self._stop.set()
            if workers.worker_transition(self.worker_id, "stopped", task_id=""):
                logger.info("Worker %s stopped", self.worker_id)

        # --- tasks --------------------------------------------------------------------------------

        def run_task(self, db_task_result: Any) -> None:
            self.current_task_id = str(db_task_result.id)
            self.beat()  # what it runs is known at once, not at the next beat
            try:
                super().run_task(db_task_result)
            finally:
                self.current_task_id = ""

        # --- heartbeat ----------------------------------------------------------------------------

        def beat(self) -> None:
            if not self.running and not self.lost:
                workers.worker_transition(self.worker_id, "stopping")
            alive = workers.worker_beat(
                self.worker_id, task_id=self.current_task_id, tasks_done=self._run_tasks
            )
            if not alive and not self.lost:
                # Declared lost by another worker (we stalled past the lease): our work has been
                # re-armed elsewhere; stop taking tasks and let the supervisor start a fresh process.
                self.lost = True
                self.running = False
                logger.error("Worker %s was declared lost by another worker: stopping", self.worker_id)

        def heartbeat_loop(self) -> None:
            interval = workers.heartbeat_seconds()
            try:
                while not self._stop.wait(interval):
                    try:
                        close_old_connections()
                        self.beat()
                        workers.workers_reap()
                    except Exception:
                        # A database blip must not end the heartbeat; the next beat tries again.
                        logger.exception("Worker %s heartbeat failed", self.worker_id)
            finally:
                connections.close_all()

    return ScaleOutWorker


class Command(BaseCommand):
    help = "Run a background worker process (scale-out mode), with heartbeats and a graceful SIGTERM."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace",
            type=float,
            default=30.0,
            help="Seconds a SIGTERM leaves the current task to finish before it is handed back (default 30).",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=0.5,
            help="Seconds between looks at the queue when idle (default 0.5).",
        )
        parser.add_argument("--worker-id", default="", help="Unique id (default: host:pid:random).")

    def handle(self, *args: object, grace: float, interval: float, worker_id: str, **options: object) -> None:
        if grace < 0 or interval <= 0:
            raise CommandError("--grace must be 0 or more and --interval more than 0.")
        worker_id = worker_id or f"{socket.gethostname()[:40]}:{os.getpid()}:{get_random_string(6)}"
        if len(worker_id) > 64:
            raise CommandError("--worker-id must be at most 64 characters.")
        worker = _worker_class()(
            grace=grace,
            queue_names=["*"],
            interval=interval,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        workers.worker_register(worker_id)
        # Work left by workers that died before this one started, and the daily reconciliation's arm.
        workers.workers_reap()
        reconcile.reconcile_schedule_next()
        connections.close_all()
        heartbeat = threading.Thread(target=worker.heartbeat_loop, name="worker-heartbeat", daemon=True)
        heartbeat.start()
        worker.configure_signals()
        self.stdout.write(f"Worker {worker_id}: running tasks (SIGTERM stops it, grace {grace:.0f} s)")
        self.stdout.flush()
        try:
            worker.run()
        finally:
            worker._finish()
