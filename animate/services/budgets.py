"""Budgets that really block: monthly caps for a team and its members, reserved at submit time.

The money a cap counts is what the ledger recorded this month (in the team's time zone) plus what runs
in flight still hold (``Generation.reserved_cost``: the estimate at submit, less what Runware has charged
since, zero once the run ends). Submitting locks the team row, reads both sums in one statement and
reserves the quote in the same transaction that creates the generation, so two concurrent submits, in
any number of server processes, can never take the team or a member past a cap.

Alerts fire when the recorded spend crosses 50 %, 80 % and 100 % of a cap, once per cap and period.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from animate.models import AuditEvent, Budget, CostDay, Generation, Membership, SpendAlert, Team
from animate.runware.money import COST_QUANTUM
from animate.services import notifications
from animate.services.audit import audit_record
from animate.services.ledger import amount_total

THRESHOLDS = (50, 80, 100)
ZERO = Decimal("0.0000")


class BudgetExceeded(Exception):
    """The run would take a cap past its limit; ``problems`` is ``{"budget": message}``."""

    def __init__(self, status: "BudgetStatus", amount: Decimal) -> None:
        self.status = status
        self.amount = amount
        self.problems = {"budget": over_budget_message(status, amount)}
        super().__init__(self.problems["budget"])


class BudgetInvalid(Exception):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class Period:
    """A calendar month in a team's time zone, as aware datetimes: ``start <= t < end``."""

    start: datetime
    end: datetime

    @property
    def first_day(self) -> date:
        return self.start.date()


@dataclass(frozen=True)
class BudgetStatus:
    scope: str  # "team" or "member"
    user_id: int | None
    username: str
    limit: Decimal
    spent: Decimal
    reserved: Decimal
    period: Period
    time_zone: str

    @property
    def committed(self) -> Decimal:
        return self.spent + self.reserved

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.limit - self.committed)

    @property
    def spent_percent(self) -> int:
        if self.limit <= 0:
            return 100 if self.spent > 0 else 0
        return int(self.spent * 100 / self.limit)

    @property
    def committed_percent(self) -> int:
        if self.limit <= 0:
            return 100 if self.committed > 0 else 0
        return int(self.committed * 100 / self.limit)

    @property
    def label(self) -> str:
        return "The team's monthly budget" if self.scope == "team" else f"{self.username}'s monthly cap"

    @property
    def scope_key(self) -> str:
        return "team" if self.scope == "team" else f"user:{self.user_id}"


def month_period(team: Team, *, now: datetime | None = None) -> Period:
    local = (now or timezone.now()).astimezone(team.zone)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if start.month == 12:
        end = start.replace(year=start.year + 1, month=1)
    else:
        end = start.replace(month=start.month + 1)
    return Period(start=start, end=end)


def money(value: Decimal) -> str:
    return f"${value.quantize(COST_QUANTUM)}"


def reset_text(status: BudgetStatus) -> str:
    return f"{status.period.end:%-d %B %Y} at 00:00 ({status.time_zone})"


def over_budget_message(status: BudgetStatus, amount: Decimal) -> str:
    whose = "the team's monthly budget" if status.scope == "team" else "your monthly cap"
    return (
        f"Over budget: this run costs {money(amount)} but {whose} has {money(status.remaining)} left "
        f"of {money(status.limit)} ({money(status.spent)} spent, {money(status.reserved)} held by runs in "
        f"flight). It resets on {reset_text(status)}."
    )


def _sum(queryset: Any, field: str) -> Subquery:
    totals = queryset.order_by().values("team_id").annotate(total=Sum(field)).values("total")[:1]
    return Coalesce(Subquery(totals), Value(ZERO), output_field=DecimalField(max_digits=14, decimal_places=4))


def _amounts(*, team_id: int, user_id: int | None, start: datetime) -> dict[str, Decimal]:
    """Spent this period and held by runs in flight, for the team and one member, in ONE statement:
    a charge moves money from reserved to spent in one transaction, and separate reads could see one
    side of that move without the other."""
    # The ledger's daily sums (kept in step with it, in the same transactions) from the month's first day.
    spent = CostDay.objects.filter(team_id=OuterRef("pk"), day__gte=start.date())
    held = Generation.objects.filter(team_id=OuterRef("pk"), reserved_cost__gt=0)
    values = Team.objects.filter(pk=team_id).annotate(
        team_spent=_sum(spent, "amount"),
        team_reserved=_sum(held, "reserved_cost"),
        user_spent=_sum(spent.filter(user_key=user_id or 0), "amount"),
        user_reserved=_sum(held.filter(created_by_id=user_id), "reserved_cost"),
    )
    row = values.values("team_spent", "team_reserved", "user_spent", "user_reserved").get()
    return {key: amount_total(value) for key, value in row.items()}


def _status(budget: Budget, *, spent: Decimal, reserved: Decimal, period: Period, team: Team) -> BudgetStatus:
    return BudgetStatus(
        scope="team" if budget.user_id is None else "member",
        user_id=budget.user_id,
        username=budget.user.get_username() if budget.user else "",
        limit=budget.monthly_limit,
        spent=spent,
        reserved=reserved,
        period=period,
        time_zone=team.time_zone,
    )


def budget_statuses(
    *, team: Team, user_id: int | None = None, now: datetime | None = None
) -> list[BudgetStatus]:
    """The caps that apply to ``user_id``'s spending in ``team``: the team's, then the member's own."""
    budgets = Budget.objects.filter(team=team).filter(Q(user__isnull=True) | Q(user_id=user_id))
    applicable = list(budgets.select_related("user").order_by("user_id"))
    if not applicable:
        return []
    period = month_period(team, now=now)
    amounts = _amounts(team_id=team.pk, user_id=user_id, start=period.start)
    statuses = []
    for budget in applicable:
        prefix = "team" if budget.user_id is None else "user"
        statuses.append(
            _status(
                budget,
                spent=amounts[f"{prefix}_spent"],
                reserved=amounts[f"{prefix}_reserved"],
                period=period,
                team=team,
            )
        )
    return statuses


def team_budget_overview(*, team: Team, now: datetime | None = None) -> list[BudgetStatus]:
    """The team budget and every member cap with what each has used this month (the admins' view)."""
    budgets = list(Budget.objects.filter(team=team).select_related("user"))
    if not budgets:
        return []
    period = month_period(team, now=now)
    spent = {
        user_key or None: amount_total(total)
        for user_key, total in CostDay.objects.filter(team=team, day__gte=period.first_day)
        .order_by()
        .values("user_key")
        .annotate(total=Sum("amount"))
        .values_list("user_key", "total")
    }
    held = {
        user_id: amount_total(total)
        for user_id, total in Generation.objects.filter(team=team, reserved_cost__gt=0)
        .order_by()
        .values("created_by_id")
        .annotate(total=Sum("reserved_cost"))
        .values_list("created_by_id", "total")
    }
    statuses = []
    for budget in budgets:
        if budget.user_id is None:
            used, reserved = sum(spent.values(), ZERO), sum(held.values(), ZERO)
        else:
            used, reserved = spent.get(budget.user_id, ZERO), held.get(budget.user_id, ZERO)
        statuses.append(_status(budget, spent=used, reserved=reserved, period=period, team=team))
    statuses.sort(key=lambda status: (status.scope != "team", status.username.lower()))
    return statuses


def tightest(statuses: list[BudgetStatus]) -> BudgetStatus | None:
    return min(statuses, key=lambda status: status.remaining, default=None)


def budget_reserve(*, membership: Membership, amount: Decimal) -> Decimal:
    """Refuse a run of ``amount`` that would take any applicable cap past its limit, else return the
    amount to hold for it. Runs inside the transaction that creates the generation."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("budget_reserve must run inside the transaction that creates the generation")
    # The team row is the lock every submit of this team (and every budget change) takes first.
    team = Team.objects.select_for_update().get(pk=membership.team_id)
    for status in budget_statuses(team=team, user_id=membership.user_id):
        if amount > status.remaining:
            raise BudgetExceeded(status, amount)
    return amount


def reservation_left(generation: Generation) -> Decimal:
    """What a run still holds against the budgets: nothing once it has ended."""
    if generation.is_terminal:
        return ZERO
    charged = generation.actual_cost or ZERO
    return max(ZERO, generation.estimated_cost - charged)


# --- changing budgets --------------------------------------------------------------------------------


def _limit(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        limit = Decimal(str(value))
    except ArithmeticError:
        raise BudgetInvalid({field: "Enter an amount in USD, such as 250 or 99.50."}) from None
    if not limit.is_finite() or limit < 0:
        raise BudgetInvalid({field: "Enter an amount of 0 or more."})
    if limit >= Decimal("100000000"):
        raise BudgetInvalid({field: "Enter an amount below 100 000 000."})
    if limit != limit.quantize(COST_QUANTUM):
        raise BudgetInvalid({field: "Use at most 4 decimal places."})
    return limit.quantize(COST_QUANTUM)


def budget_set(
    *,
    membership: Membership,
    user_id: int | None,
    monthly_limit: Any,
    actor: AbstractBaseUser,
    ip: str | None = None,
) -> Budget | None:
    """Set (or, with an empty limit, remove) the team budget or one member's cap. Admins only."""
    if not membership.is_admin:
        raise PermissionError("Only team admins can change budgets.")
    field = "monthly_limit"
    limit = _limit(monthly_limit, field)
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=membership.team_id)
        if user_id is not None and not Membership.objects.filter(team=team, user_id=user_id).exists():
            raise BudgetInvalid({"user": "No such member in your team."})
        existing = Budget.objects.filter(team=team, user_id=user_id).first()
        before = str(existing.monthly_limit) if existing else None
        budget: Budget | None
        if limit is None:
            if existing is not None:
                existing.delete()
            budget = None
        elif existing is None:
            budget = Budget.objects.create(team=team, user_id=user_id, monthly_limit=limit, updated_by=actor)
        else:
            existing.monthly_limit = limit
            existing.updated_by = actor  # type: ignore[assignment]
            existing.save(update_fields=["monthly_limit", "updated_by", "updated_at"])
            budget = existing
        after = str(limit) if limit is not None else None
        if before != after:
            audit_record(
                action=AuditEvent.Action.BUDGET_CHANGED,
                team=team,
                actor=actor,
                target_type="budget",
                target_id=f"user:{user_id}" if user_id else "team",
                detail={
                    "scope": "member" if user_id else "team",
                    "user_id": user_id,
                    "from": before,
                    "to": after,
                },
                ip=ip,
            )
            # A lowered cap may already be crossed: say so now rather than at the next charge.
            budget_alerts_check(team=team, user_id=user_id)
    return budget


# --- alerts ------------------------------------------------------------------------------------------


def budget_alerts_check(*, team: Team | int, user_id: int | None) -> list[SpendAlert]:
    """Raise each threshold the recorded spend has crossed this period and that was not raised yet.

    Called in the transaction that wrote a charge (or changed a cap); admins are told after it commits.
    """
    if isinstance(team, int):
        if not Budget.objects.filter(team_id=team).exists():
            return []
        team = Team.objects.get(pk=team)
    statuses = budget_statuses(team=team, user_id=user_id)
    if not statuses:
        return []
    period_start = statuses[0].period.first_day
    raised = set(
        SpendAlert.objects.filter(
            team=team, period_start=period_start, scope__in=[status.scope_key for status in statuses]
        ).values_list("scope", "threshold")
    )
    created = []
    for status in statuses:
        for threshold in THRESHOLDS:
            crossed = status.spent > 0 and status.spent * 100 >= status.limit * threshold
            if not crossed or (status.scope_key, threshold) in raised:
                continue
            try:
                with transaction.atomic():
                    alert = SpendAlert.objects.create(
                        team=team,
                        kind=SpendAlert.Kind.TEAM_BUDGET
                        if status.scope == "team"
                        else SpendAlert.Kind.MEMBER_BUDGET,
                        user_id=status.user_id,
                        scope=status.scope_key,
                        threshold=threshold,
                        period_start=period_start,
                        limit=status.limit,
                        spent=status.spent,
                    )
            except IntegrityError:
                continue  # a concurrent charge raised it first
            created.append(alert)
            notifications.notify_admins(
                team=team,
                kind="spend_alert",
                title=f"{status.label} is at {threshold}%",
                body=(
                    f"{money(status.spent)} of {money(status.limit)} spent this month "
                    f"({status.period.start:%B %Y}); {money(status.reserved)} more is held by runs "
                    "in flight. "
                    f"It resets on {reset_text(status)}."
                ),
                url="/costs/",
            )
    return created


@dataclass(frozen=True)
class Headroom:
    """What the create page shows beside a quote: the tightest applicable cap, after this run."""

    status: BudgetStatus
    amount: Decimal | None

    @property
    def remaining(self) -> Decimal:
        return self.status.remaining

    @property
    def after(self) -> Decimal | None:
        return self.status.remaining - self.amount if self.amount is not None else None

    @property
    def fits(self) -> bool:
        return self.amount is None or self.amount <= self.status.remaining

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe (money as strings), for the page's quote endpoint and the API."""
        after = self.after
        return {
            "scope": self.status.scope,
            "label": self.status.label,
            "limit": str(self.status.limit),
            "remaining": str(self.remaining),
            "remaining_after": str(after) if after is not None else None,
            "fits": self.fits,
            "resets_at": self.status.period.end.isoformat(),
            "resets_text": reset_text(self.status),
            "message": None
            if self.fits or self.amount is None
            else over_budget_message(self.status, self.amount),
        }


def budget_headroom(*, membership: Membership, amount: Decimal | None) -> Headroom | None:
    """The cap with the least room left for ``membership``'s next run (None: nothing caps them)."""
    status = tightest(budget_statuses(team=membership.team, user_id=membership.user_id))
    return Headroom(status=status, amount=amount) if status is not None else None
