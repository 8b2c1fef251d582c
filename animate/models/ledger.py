"""The money ledger: append-only rows, one per charge Runware reported (or correction an admin made).

A row is never updated in place and never deleted, not with its generation, output or user (those
are protected from deletion while rows point at them; archiving and purging keep them). A correction
is a new row of kind ``adjustment``. Amounts are decimals to 1/100 of a cent, never floats.

A row's output is found by ``(generation, video_uuid)``: the charge is recorded the moment Runware
reports it, before the video is stored (so a result that never reaches our storage still shows its
cost), and attaching the output later would be an update.
"""

from typing import Any, NoReturn

from django.conf import settings
from django.db import connection, models, transaction

from animate.models.generations import Generation
from animate.models.teams import Team


class LedgerIsAppendOnly(Exception):
    """Raised on any attempt to change or delete a ledger row."""


class CostEntryQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise LedgerIsAppendOnly("Ledger rows are never updated; add an adjustment row instead.")

    def delete(self) -> NoReturn:
        raise LedgerIsAppendOnly("Ledger rows are never deleted; add an adjustment row instead.")


class CostEntry(models.Model):
    class Kind(models.TextChoices):
        RESULT = "result", "Result"
        FAILED_CHARGED = "failed_charged", "Failed but charged"
        ADJUSTMENT = "adjustment", "Adjustment"

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cost_entries")
    generation = models.ForeignKey(
        Generation, on_delete=models.PROTECT, null=True, blank=True, related_name="cost_entries"
    )
    # The result this charge is for (success results only); the Output, if stored, has the same key.
    video_uuid = models.UUIDField(null=True, blank=True)
    # Who submitted the generation (or, for an adjustment, whom it concerns).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Who wrote an adjustment by hand; None for rows recorded from Runware.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Unique per charge: "<taskUUID>:<videoUUID>" for a result, "<taskUUID>:error" for a failed task.
    key = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.RESULT)
    amount = models.DecimalField(max_digits=12, decimal_places=4)
    # The estimate for this one result at submit time (the quote divided by numberResults).
    estimated = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    # What an auditor filters by, copied from the generation when the row is written so a report
    # never depends on rows that may change later.
    mode = models.CharField(max_length=16, blank=True)  # "animate" / "replace"
    tier = models.CharField(max_length=8, blank=True)  # price tier: "480p" / "580p" / "720p"
    output_format = models.CharField(max_length=8, blank=True)  # "MP4" / "WEBM" / "MOV"
    billable_seconds = models.PositiveIntegerField(null=True, blank=True)
    # A cost claimed by an anomalous delivery (a result beyond numberResults, a result after the run
    # ended...): kept out of the generation's actual cost and shown apart until reconciliation.
    flagged = models.BooleanField(default=False)
    flag_reason = models.CharField(max_length=255, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = CostEntryQuerySet.as_manager()

    class Meta:
        indexes = [
            # The cost reports read a team's rows over a date range and only these columns, so they are
            # answered from this index alone (an index-only scan), without reading the table.
            models.Index(
                fields=["team", "created_at"],
                include=[
                    "amount",
                    "estimated",
                    "user",
                    "kind",
                    "flagged",
                    "mode",
                    "tier",
                    "output_format",
                    "generation",
                ],
                name="costentry_report_idx",
            ),
            models.Index(fields=["generation", "video_uuid"]),
        ]

    def __str__(self) -> str:
        return f"{self.amount} USD ({self.key})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise LedgerIsAppendOnly("Ledger rows are never updated; add an adjustment row instead.")
        with transaction.atomic():
            super().save(*args, **kwargs)
            # The reports' daily sums move with the ledger, in the same transaction.
            zone = Team.objects.only("time_zone").get(pk=self.team_id).zone
            CostDay.add(key=cost_day_key(self, zone=zone), amount=self.amount, estimated=self.estimated)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise LedgerIsAppendOnly("Ledger rows are never deleted; add an adjustment row instead.")


class CostDay(models.Model):
    """The ledger summed per day (in the team's time zone) and per fact the reports group or filter by.

    A cache the cost reports read instead of scanning every row (a year of a busy team's ledger is a
    million rows): ``CostEntry.save`` adds each new row to it in the same transaction, so it always
    equals the ledger, and ``cost_days_rebuild`` recomputes a team's rows when its time zone changes.
    Unlike the ledger it is freely rewritten: it holds nothing the ledger does not.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    # The entry's user id, 0 for none (a unique key cannot hold NULLs on every database).
    user_key = models.BigIntegerField(default=0)
    mode = models.CharField(max_length=16, blank=True)
    tier = models.CharField(max_length=8, blank=True)
    output_format = models.CharField(max_length=8, blank=True)
    kind = models.CharField(max_length=16, choices=CostEntry.Kind.choices)
    flagged = models.BooleanField(default=False)
    # Whether the entries belong to a run (adjustments may not).
    has_run = models.BooleanField(default=True)
    amount = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    estimated = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    entries = models.PositiveIntegerField(default=0)

    KEY = ("team_id", "day", "user_key", "mode", "tier", "output_format", "kind", "flagged", "has_run")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "team",
                    "day",
                    "user_key",
                    "mode",
                    "tier",
                    "output_format",
                    "kind",
                    "flagged",
                    "has_run",
                ],
                name="costday_one_row_per_facts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team_id} {self.day}: {self.amount} USD in {self.entries} entries"

    @classmethod
    def add(cls, *, key: dict[str, Any], amount: Any, estimated: Any, entries: int = 1) -> None:
        """Add to the row of ``key`` (creating it), atomically even against a concurrent add."""
        table = connection.ops.quote_name(cls._meta.db_table)
        columns = [*cls.KEY, "amount", "estimated", "entries"]
        values = [key[name] for name in cls.KEY] + [amount, estimated, entries]
        sums = ", ".join(
            f"{name} = {table}.{name} + excluded.{name}" for name in ("amount", "estimated", "entries")
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "  # noqa: S608 - names from the model
                f"ON CONFLICT ({', '.join(cls.KEY)}) DO UPDATE SET {sums}",
                values,
            )


def cost_day_key(entry: CostEntry, *, zone: Any) -> dict[str, Any]:
    return {
        "team_id": entry.team_id,
        "day": entry.created_at.astimezone(zone).date(),
        "user_key": entry.user_id or 0,
        "mode": entry.mode,
        "tier": entry.tier,
        "output_format": entry.output_format,
        "kind": entry.kind,
        "flagged": entry.flagged,
        "has_run": entry.generation_id is not None,
    }
