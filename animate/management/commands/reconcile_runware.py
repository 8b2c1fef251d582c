"""Compare the ledger with Runware's own usage per day and read the balance (cron, or by hand)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from animate.models import Reconciliation
from animate.services import reconcile


class Command(BaseCommand):
    help = (
        "Reconcile the ledger with Runware's accountManagement usage for a range of UTC days (default: the "
        "last 7 days) and record the account balance; alerts admins below their low-balance threshold. "
        "Embedded servers schedule this daily at 02:00 UTC; in scale-out mode run it from cron."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--from", dest="date_from", help="First UTC day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="date_to", help="Last UTC day, YYYY-MM-DD (default today).")

    def handle(self, *args: Any, date_from: str | None, date_to: str | None, **options: Any) -> None:
        try:
            start, end = reconcile.reconcile_range(date_from=date_from, date_to=date_to)
        except reconcile.ReconcileInvalid as exc:
            raise CommandError(" ".join(exc.problems.values())) from None
        run = Reconciliation.objects.create(date_from=start, date_to=end)
        status = reconcile.reconcile_execute(reconciliation_id=run.pk)
        run.refresh_from_db()
        self.stdout.write(f"Reconciliation #{run.pk} {start}..{end}: {status}. {run.detail}".strip())
        differing = [day for day in run.days.all() if day.difference]
        for day in differing:
            self.stdout.write(
                f"  {day.day}: ledger {day.ours} vs Runware {day.theirs} (difference {day.difference})"
            )
        if status == Reconciliation.Status.FAILED:
            raise CommandError("Runware could not be asked; see the detail above.")
