"""Helpers for the cost tests: ledger rows written at a chosen moment, and runs in flight."""

import contextlib
import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from animate.models import CostEntry, Generation


@contextlib.contextmanager
def frozen(moment: datetime) -> Iterator[None]:
    """Rows written inside get ``moment`` as their ``auto_now_add`` time (the ledger cannot be
    back-dated any other way: it is append-only)."""
    original = timezone.now
    timezone.now = lambda: moment
    try:
        yield
    finally:
        timezone.now = original


def entry(team, user, amount: str, *, at: datetime | None = None, **facts) -> CostEntry:
    values = {
        "team": team,
        "user": user,
        "key": f"test:{uuid.uuid4()}",
        "amount": Decimal(amount),
        "estimated": Decimal(facts.pop("estimated", amount)),
        "mode": "animate",
        "tier": "480p",
        "output_format": "MP4",
        "billable_seconds": 1,
        **facts,
    }
    if at is None:
        return CostEntry.objects.create(**values)
    with frozen(at):
        return CostEntry.objects.create(**values)


def in_flight(team, user, image, video, *, estimate: str, status: str = "submitted") -> Generation:
    return Generation.objects.create(
        team=team,
        created_by=user,
        image=image,
        video=video,
        status=status,
        estimated_cost=Decimal(estimate),
        reserved_cost=Decimal(estimate),
    )
