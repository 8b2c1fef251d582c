"""``python manage.py health``: whether the database, Redis and the worker processes can do their work.

The probe for processes that serve no HTTP (workers) and for an operator's shell; web processes answer
the same questions at ``/healthz``. Prints one JSON object and exits 0 when healthy, 1 otherwise:

    python manage.py health                    # database, Redis (when REDIS_URL is set), live workers
    python manage.py health --min-workers 2    # unhealthy unless 2 workers beat within the lease
    python manage.py health --worker ID        # unhealthy unless that worker beats within the lease
"""

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # reported, never raised: this is the health probe
        return f"unavailable: {type(exc).__name__}"
    return "ok"


def _redis() -> str:
    if not settings.REDIS_URL:
        return "not used (in-memory channel layer)"
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}"
    return "ok"


class Command(BaseCommand):
    help = "Check the database, Redis and the worker processes; exit 1 when something is unhealthy."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--min-workers", type=int, default=0, help="Live workers required (default 0).")
        parser.add_argument("--worker", default="", help="A worker id that must be alive.")

    def handle(self, *args: object, min_workers: int, worker: str, **options: object) -> None:
        if min_workers < 0:
            raise CommandError("--min-workers must be 0 or more.")
        report: dict[str, Any] = {"database": _database(), "redis": _redis()}
        problems = [f"{name}: {state}" for name, state in report.items() if state.startswith("unavailable")]
        if report["database"] == "ok":
            from animate.services.workers import workers_alive

            alive = workers_alive()
            report["workers"] = [
                {"id": w.worker_id, "status": w.status, "task": w.task_id, "beat_at": w.beat_at.isoformat()}
                for w in alive
            ]
            if len(alive) < min_workers:
                problems.append(f"workers: {len(alive)} alive, {min_workers} required")
            if worker and worker not in {w.worker_id for w in alive}:
                problems.append(f"worker {worker}: no heartbeat within the lease")
        report["status"] = "error" if problems else "ok"
        if problems:
            report["problems"] = problems
        self.stdout.write(json.dumps(report))
        if problems:
            raise SystemExit(1)
