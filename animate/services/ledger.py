"""Writing the ledger: the facts every row carries, taken from its generation when the row is written."""

import uuid
from decimal import Decimal
from typing import Any

from django.db import transaction

from animate.models import AuditEvent, CostDay, CostEntry, Generation, Membership, Team
from animate.runware import pricing, spec
from animate.runware.pricing import COST_QUANTUM
from animate.services.audit import audit_record


def entry_facts(generation: Generation) -> dict[str, Any]:
    """Who, what mode, size tier, format and length a charge of ``generation`` is for.

    Copied onto each row so reports filter and group the ledger alone, and never change with later edits.
    """
    parameters = generation.parameters or {}
    duration = generation.video.duration if generation.video_id else None
    try:
        seconds = pricing.billable_seconds(duration) if duration else None
    except ValueError:
        seconds = None
    try:
        tier = pricing.tier_for_task(parameters)
    except ValueError:
        tier = ""
    results = max(1, generation.number_results)
    return {
        "team_id": generation.team_id,
        "generation": generation,
        "user_id": generation.created_by_id,
        "estimated": (generation.estimated_cost / results).quantize(COST_QUANTUM),
        "mode": str(parameters.get("mode") or spec.parameter("advancedFeatures.wanAnimate.mode").default),
        "tier": tier,
        "output_format": str(parameters.get("outputFormat") or spec.parameter("outputFormat").default),
        "billable_seconds": seconds,
    }


def amount_total(amounts: Any) -> Decimal:
    """A database sum as an exact Decimal: SQLite sums decimals as floats-in-text."""
    total = amounts if amounts is not None else 0
    return Decimal(str(total)).quantize(COST_QUANTUM)


class AdjustmentInvalid(Exception):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


MAX_ADJUSTMENT = Decimal("1000000")


def ledger_adjust(
    *,
    membership: Membership,
    amount: Any,
    note: str,
    user_id: Any = None,
    generation_id: Any = None,
    ip: str | None = None,
) -> CostEntry:
    """A correction, as a new row (the ledger is never edited): positive adds a charge, negative a credit.

    Admins only; the note says why, and the row names who wrote it.
    """
    if not membership.is_admin:
        raise PermissionError("Only team admins can adjust the ledger.")
    problems: dict[str, str] = {}
    try:
        value = Decimal(str(amount).strip())
        if not value.is_finite():
            raise ArithmeticError
    except (ArithmeticError, ValueError):
        value = None
        problems["amount"] = "Enter an amount in USD, such as 1.25 or -0.50 for a credit."
    if value is not None:
        if value == 0:
            problems["amount"] = "An adjustment of 0 changes nothing."
        elif abs(value) >= MAX_ADJUSTMENT:
            problems["amount"] = "Enter an amount below 1 000 000."
        elif value != value.quantize(COST_QUANTUM):
            problems["amount"] = "Use at most 4 decimal places."
    note = (note or "").strip()
    if not note:
        problems["note"] = "Say why (it is kept with the entry)."
    elif len(note) > 1000:
        problems["note"] = "Keep the note under 1000 characters."
    generation = None
    if generation_id not in (None, ""):
        generation = (
            Generation.objects.select_related("video")
            .filter(team_id=membership.team_id, pk=_int(generation_id))
            .first()
        )
        if generation is None:
            problems["generation"] = "No such generation in your team."
    member = None
    if user_id not in (None, ""):
        member = Membership.objects.filter(team_id=membership.team_id, user_id=_int(user_id)).first()
        if member is None:
            problems["user"] = "No such member in your team."
    if problems:
        raise AdjustmentInvalid(problems)
    assert value is not None
    facts: dict[str, Any] = {"team_id": membership.team_id, "user_id": None}
    if generation is not None:
        facts = entry_facts(generation)
    if member is not None:
        facts["user_id"] = member.user_id
    facts["estimated"] = Decimal("0")
    with transaction.atomic():
        entry = CostEntry.objects.create(
            key=f"adjustment:{uuid.uuid4()}",
            kind=CostEntry.Kind.ADJUSTMENT,
            amount=value.quantize(COST_QUANTUM),
            recorded_by=membership.user,
            note=note,
            **facts,
        )
        audit_record(
            action=AuditEvent.Action.LEDGER_ADJUSTED,
            team=membership.team_id,
            actor=membership.user,
            target=entry,
            detail={"amount": str(entry.amount), "note": note[:200], "generation": entry.generation_id},
            ip=ip,
        )
    return entry


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def cost_days_rebuild(*, team: Team) -> int:
    """Recompute a team's daily sums from its ledger (after its time zone changed: days move). Runs in
    the caller's transaction; returns the number of daily rows."""
    from django.db.models import BooleanField, Count, ExpressionWrapper, Q, Sum
    from django.db.models.functions import TruncDate

    CostDay.objects.filter(team=team).delete()
    rows = (
        CostEntry.objects.filter(team=team)
        .order_by()
        .annotate(
            day=TruncDate("created_at", tzinfo=team.zone),
            with_run=ExpressionWrapper(Q(generation__isnull=False), output_field=BooleanField()),
        )
        .values("day", "user_id", "mode", "tier", "output_format", "kind", "flagged", "with_run")
        .annotate(total=Sum("amount"), estimate=Sum("estimated"), count=Count("*"))
    )
    days = [
        CostDay(
            team=team,
            day=row["day"],
            user_key=row["user_id"] or 0,
            mode=row["mode"],
            tier=row["tier"],
            output_format=row["output_format"],
            kind=row["kind"],
            flagged=row["flagged"],
            has_run=row["with_run"],
            amount=amount_total(row["total"]),
            estimated=amount_total(row["estimate"]),
            entries=row["count"],
        )
        for row in rows
    ]
    CostDay.objects.bulk_create(days, batch_size=2000)
    return len(days)
