"""Reconciliation with Runware: its usage per day and the account balance, against our ledger.

Runware's account is the deployment's (one API key), so the ledger side is every team's entries, per UTC
day. A day differs when the two amounts are not equal to the cent's hundredth; a result charged just
before midnight and recorded just after shows as two opposite differences on adjacent days. The
provider's calls happen outside any transaction; the run's row is written before (so a crash leaves a
visible "running" row) and completed after.
"""

import logging
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from animate.models import (
    AuditEvent,
    CostEntry,
    Membership,
    Reconciliation,
    ReconciliationDay,
    SpendAlert,
    Team,
)
from animate.runware.client import RunwareClient, RunwareError, RunwareTransportError, UsageActivity
from animate.services import notifications
from animate.services.audit import audit_record
from animate.services.budgets import money
from animate.services.ledger import amount_total

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 7
MAX_DAYS = 92
# When the daily job runs (UTC): early enough that the previous day is complete at Runware.
DAILY_HOUR_UTC = 2
# Key of the PostgreSQL advisory lock taken while arming the daily job (any constant of our own).
RECONCILE_ARM_LOCK = 0x616E696D


class ReconcileInvalid(Exception):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def reconcile_range(
    *, date_from: Any = None, date_to: Any = None, today: date | None = None
) -> tuple[date, date]:
    """The inclusive UTC day range to compare (default: the last 7 days, today included)."""
    today = today or timezone.now().astimezone(UTC).date()
    problems: dict[str, str] = {}
    days: dict[str, date] = {}
    for name, value, default in (
        ("from", date_from, today - timedelta(days=DEFAULT_DAYS - 1)),
        ("to", date_to, today),
    ):
        if value in (None, ""):
            days[name] = default
            continue
        try:
            days[name] = value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            problems[name] = "Enter a date as YYYY-MM-DD."
    if not problems:
        if days["to"] < days["from"]:
            problems["to"] = "The end date is before the start date."
        elif days["to"] > today:
            problems["to"] = "Runware cannot report days that have not happened yet."
        elif (days["to"] - days["from"]).days + 1 > MAX_DAYS:
            problems["to"] = f"Compare at most {MAX_DAYS} days at a time."
    if problems:
        raise ReconcileInvalid(problems)
    return days["from"], days["to"]


def ledger_by_utc_day(start: date, end: date) -> dict[date, Decimal]:
    """Every team's ledger, summed per UTC day."""
    rows = (
        CostEntry.objects.filter(
            created_at__gte=datetime.combine(start, time.min, tzinfo=UTC),
            created_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
        )
        .order_by()
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(total=Sum("amount"))
        .values_list("day", "total")
    )
    return {day: amount_total(total) for day, total in rows}


def _client() -> RunwareClient:
    from animate.services.submission import runware_client

    return runware_client()


def reconcile_start(
    *,
    date_from: date,
    date_to: date,
    actor: AbstractBaseUser | None = None,
    team: Team | None = None,
    ip: str | None = None,
) -> Reconciliation:
    """Record a reconciliation of ``date_from``..``date_to`` and queue its work (Runware's calls can take
    a while, so a page never waits for them)."""
    from animate import tasks  # tasks import services; imported here to keep the direction one-way

    with transaction.atomic():
        run = Reconciliation.objects.create(started_by=actor, date_from=date_from, date_to=date_to)
        audit_record(
            action=AuditEvent.Action.RECONCILED,
            team=team,
            actor=actor,
            target=run,
            detail={"from": date_from.isoformat(), "to": date_to.isoformat()},
            ip=ip,
        )
        tasks.reconcile_runware.enqueue(run.pk)
    return run


def reconcile_execute(*, reconciliation_id: int) -> str:
    """Ask Runware for the balance and the usage of the run's days and compare each day with the ledger."""
    run = Reconciliation.objects.get(pk=reconciliation_id)
    if run.status != Reconciliation.Status.RUNNING:
        return run.status
    date_from, date_to = run.date_from, run.date_to
    raw: dict[str, Any] = {}
    problems: list[str] = []
    balance = None
    activity: UsageActivity | None = None
    client = _client()
    try:
        try:
            details = client.account_details()
            balance = details.balance
            raw["getDetails"] = _without_secrets(details.raw)
            if balance is None:
                problems.append("Runware's account details held no balance we could read.")
        except (RunwareError, RunwareTransportError) as exc:
            problems.append(f"Balance unavailable: {exc}")
        try:
            activity = client.usage_activity(start=date_from, end=date_to)
            raw["getUsageActivity"] = _without_secrets(activity.raw)
            if activity.days is None:
                problems.append("Runware's usage answer held no per-day figures we could read.")
        except (RunwareError, RunwareTransportError) as exc:
            problems.append(f"Usage per day unavailable: {exc}")
    finally:
        client.close()
    theirs = (
        {day.day: day.amount for day in activity.days} if activity and activity.days is not None else None
    )
    ours = ledger_by_utc_day(date_from, date_to)
    with transaction.atomic():
        run = Reconciliation.objects.select_for_update().get(pk=reconciliation_id)
        if run.status != Reconciliation.Status.RUNNING:
            return run.status  # another worker finished it meanwhile
        days = []
        differing = 0
        for offset in range((date_to - date_from).days + 1):
            day = date_from + timedelta(days=offset)
            mine = ours.get(day, Decimal("0.0000"))
            # A readable list that does not name a day means nothing was used that day.
            other = theirs.get(day, Decimal("0.0000")) if theirs is not None else None
            difference = (mine - other) if other is not None else None
            differing += bool(difference)
            days.append(
                ReconciliationDay(reconciliation=run, day=day, ours=mine, theirs=other, difference=difference)
            )
        ReconciliationDay.objects.bulk_create(days)
        run.balance = balance
        run.ours_total = sum(ours.values(), Decimal("0.0000"))
        run.theirs_total = sum(theirs.values(), Decimal("0.0000")) if theirs is not None else None
        if theirs is None:
            run.status = (
                Reconciliation.Status.PARTIAL if balance is not None else Reconciliation.Status.FAILED
            )
        else:
            run.status = Reconciliation.Status.DIFFERENCES if differing else Reconciliation.Status.MATCHED
        run.detail = " ".join(problems)
        if differing:
            run.detail = f"{differing} day{'' if differing == 1 else 's'} differ. {run.detail}".strip()
        run.raw = raw
        run.finished_at = timezone.now()
        run.save()
        if balance is not None:
            low_balance_check(balance=balance)
    return run.status


def _without_secrets(item: dict[str, Any]) -> dict[str, Any]:
    """getDetails lists the account's API keys; keep their names, never the keys."""
    clean = dict(item)
    keys = clean.get("apiKeys")
    if isinstance(keys, list):
        clean["apiKeys"] = [
            {name: value for name, value in key.items() if "key" not in name.lower() or name == "keyName"}
            if isinstance(key, dict)
            else "[redacted]"
            for key in keys
        ]
    return clean


def low_balance_check(*, balance: Decimal) -> list[SpendAlert]:
    """Alert the admins of each team whose threshold the balance is under, once per day."""
    today = timezone.now().astimezone(UTC).date()
    alerts = []
    for team in Team.objects.filter(low_balance_threshold__isnull=False, low_balance_threshold__gt=balance):
        threshold = team.low_balance_threshold
        assert threshold is not None
        try:
            with transaction.atomic():
                alert = SpendAlert.objects.create(
                    team=team,
                    kind=SpendAlert.Kind.LOW_BALANCE,
                    scope="balance",
                    threshold=0,
                    period_start=today,
                    limit=threshold,
                    spent=balance,
                )
        except IntegrityError:
            continue  # already told today
        alerts.append(alert)
        notifications.notify_admins(
            team=team,
            kind="low_balance",
            title=f"Runware balance is low: {money(balance)}",
            body=f"The Runware account's balance is {money(balance)}, below this team's alert threshold of "
            f"{money(threshold)}. Top it up before runs start failing.",
            url="/costs/reconciliation/",
        )
    return alerts


def reconcile_latest() -> Reconciliation | None:
    return (
        Reconciliation.objects.exclude(status=Reconciliation.Status.RUNNING)
        .order_by("-started_at", "-pk")
        .first()
    )


def reconcile_for_admin(
    *, membership: Membership, date_from: Any = None, date_to: Any = None, ip: str | None = None
) -> Reconciliation:
    """The button: an admin reconciles a range now (the work runs in the background)."""
    if not membership.is_admin:
        raise PermissionError("Only team admins can reconcile.")
    start, end = reconcile_range(date_from=date_from, date_to=date_to)
    return reconcile_start(date_from=start, date_to=end, actor=membership.user, team=membership.team, ip=ip)


def next_daily_run(now: datetime | None = None) -> datetime:
    now = (now or timezone.now()).astimezone(UTC)
    due = datetime.combine(now.date(), time(DAILY_HOUR_UTC), tzinfo=UTC)
    return due if due > now else due + timedelta(days=1)


def reconcile_scheduled() -> str:
    """The daily job: the last 7 complete days and today so far, then the next day's run is queued."""
    today = timezone.now().astimezone(UTC).date()
    try:
        with transaction.atomic():
            run = Reconciliation.objects.create(date_from=today - timedelta(days=DEFAULT_DAYS), date_to=today)
            audit_record(action=AuditEvent.Action.RECONCILED, team=None, actor_name="daily job", target=run)
        outcome = reconcile_execute(reconciliation_id=run.pk)
    finally:
        reconcile_schedule_next()
    return outcome


def reconcile_schedule_next() -> None:
    """Queue the daily job unless one is already waiting (recovery calls this at every start)."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from animate import tasks

    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Worker processes starting together each arm the job: one at a time looks and queues, or two
            # would both find none waiting. (SQLite's write transactions are one at a time already.)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RECONCILE_ARM_LOCK])
        waiting = DBTaskResult.objects.filter(
            task_path=tasks.reconcile_daily.module_path, status=TaskResultStatus.READY
        )
        if not waiting.exists():
            tasks.reconcile_daily.using(run_after=next_daily_run()).enqueue()
