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
from django.utils.crypto import get_random_string

from animate import events

logger = logging.getLogger(__name__)


class EmbeddedWorkers:
    def __init__(self) -> None:
        self.workers: list[Any] = []
        self.threads: list[threading.Thread] = []

    def start(self, count: int) -> None:
        from django_tasks_db.management.commands.db_worker import Worker

        for index in range(count):
            worker = Worker(
                queue_names=["*"],
                interval=0.2,
                batch=False,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id=f"embedded-{index}-{get_random_string(8)}",
                excluded_queue_names=[],
            )
            thread = threading.Thread(target=self._run, args=(worker,), name=worker.worker_id, daemon=True)
            self.workers.append(worker)
            self.threads.append(thread)
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
        for thread in self.threads:
            thread.join(timeout)
        self.workers.clear()
        self.threads.clear()


async def lifespan(scope: dict, receive: Any, send: Any) -> None:
    workers = EmbeddedWorkers()
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            events.set_server_loop(asyncio.get_running_loop())
            if settings.EMBEDDED_WORKER:
                await asyncio.to_thread(workers.start, settings.EMBEDDED_WORKER_THREADS)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await asyncio.to_thread(workers.stop)
            events.set_server_loop(None)
            await send({"type": "lifespan.shutdown.complete"})
            return
