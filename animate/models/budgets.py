"""Monthly spending caps, the alerts they raised, and reconciliations of the ledger with Runware."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from animate.models.teams import Team


class Budget(models.Model):
    """A monthly cap in USD: the team's own (``user`` empty) or one member's within the team.

    Submitting reserves the quote against every cap that applies, under a lock on the team row, so
    concurrent submits can never take the team or a member past it (``animate.services.budgets``).
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="budgets")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    monthly_limit = models.DecimalField(max_digits=12, decimal_places=4)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team"], condition=Q(user__isnull=True), name="budget_one_team_budget"
            ),
            models.UniqueConstraint(
                fields=["team", "user"], condition=Q(user__isnull=False), name="budget_one_cap_per_member"
            ),
            models.CheckConstraint(condition=Q(monthly_limit__gte=0), name="budget_limit_not_negative"),
        ]

    def __str__(self) -> str:
        whose = f"user {self.user_id}" if self.user_id else "team"
        return f"{self.team} {whose}: {self.monthly_limit} USD/month"


class SpendAlert(models.Model):
    """One alert raised: a budget crossed 50/80/100 % in a period, or the balance fell below a threshold.

    Unique per (team, scope, threshold, period), so each fires once per period; rows are never removed,
    so the history survives the monthly reset.
    """

    class Kind(models.TextChoices):
        TEAM_BUDGET = "team_budget", "Team budget"
        MEMBER_BUDGET = "member_budget", "Member cap"
        LOW_BALANCE = "low_balance", "Low Runware balance"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="spend_alerts")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The member whose cap it is (member caps only).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # "team", "user:<id>" or "balance": what the uniqueness is about.
    scope = models.CharField(max_length=40)
    threshold = models.PositiveSmallIntegerField(help_text="Percent of the budget (0 for the balance).")
    # First day of the month (budgets, in the team's time zone) or the day (balance).
    period_start = models.DateField()
    limit = models.DecimalField(max_digits=12, decimal_places=4)
    spent = models.DecimalField(max_digits=12, decimal_places=4)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team", "scope", "threshold", "period_start"], name="spend_alert_once_per_period"
            ),
        ]
        indexes = [models.Index(fields=["team", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.threshold}% ({self.period_start})"


class Reconciliation(models.Model):
    """One comparison of the ledger with Runware's own usage figures, day by day (UTC days).

    Runware's account is the deployment's, so the ledger side is every team's entries.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        MATCHED = "matched", "Matched"
        DIFFERENCES = "differences", "Differences found"
        PARTIAL = "partial", "Balance only"
        FAILED = "failed", "Failed"

    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    date_from = models.DateField()
    date_to = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    balance = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    ours_total = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    theirs_total = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    detail = models.TextField(blank=True)
    # What Runware answered, as received (for an admin to read when a shape was not understood).
    raw = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"Reconciliation {self.date_from}..{self.date_to} ({self.status})"


class ReconciliationDay(models.Model):
    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    ours = models.DecimalField(max_digits=14, decimal_places=4)
    # None: Runware reported nothing readable for that day.
    theirs = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    difference = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reconciliation", "day"], name="reconciliation_day_unique"),
        ]
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day}: ours {self.ours}, theirs {self.theirs}"
