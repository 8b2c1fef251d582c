"""Give every unfinished generation and unprocessed webhook its background task again (scale-out)."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from animate.services.recovery import generations_recover, tasks_abandon_running


class Command(BaseCommand):
    help = (
        "Re-enqueue submission, polling and webhook processing for unfinished work, e.g. after worker "
        "processes were killed. Safe to run at any time: all of that work is idempotent."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--lease-minutes",
            type=int,
            default=30,
            help="Tasks running longer than this are taken as abandoned by a dead worker (default 30; "
            "longer than any download may take).",
        )

    def handle(self, *args: Any, lease_minutes: int, **options: Any) -> None:
        if lease_minutes < 1:
            raise CommandError("--lease-minutes must be 1 or more.")
        abandoned = tasks_abandon_running(started_before=timezone.now() - timedelta(minutes=lease_minutes))
        summary = generations_recover()
        self.stdout.write(
            f"Abandoned {abandoned} stuck task(s); re-enqueued {summary.submits} submission(s), "
            f"{summary.polls} poll(s) and {summary.webhook_events} webhook event(s)."
        )
