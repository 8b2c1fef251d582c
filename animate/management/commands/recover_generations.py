"""Give every unfinished generation and unprocessed webhook its background task again (scale-out)."""

from typing import Any

from django.core.management.base import BaseCommand

from animate.services.recovery import generations_recover


class Command(BaseCommand):
    help = (
        "Re-enqueue submission, polling and webhook processing for unfinished work, e.g. after worker "
        "processes were killed. Safe to run at any time: all of that work is idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        summary = generations_recover()
        self.stdout.write(
            f"Re-enqueued {summary.submits} submission(s), {summary.polls} poll(s) and "
            f"{summary.webhook_events} webhook event(s)."
        )
