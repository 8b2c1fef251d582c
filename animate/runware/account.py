"""Reading Runware's ``accountManagement`` answers: the balance and usage per day, tolerantly.

What the sources settle (docs/runware-protocol.md §7): ``getDetails`` answers an item with ``balance``,
documented as a number (``2450.75``) but an object in a newer schema, and ``usage`` totals
(``today``, ``last7Days``, ``last30Days``, ``total``, each ``{"credits", "requests"}``). Newer docs name
``getUsageActivity`` without its shape. So every reader here looks for a value under the names seen
or likely, accepts numbers and numeric strings, and answers None rather than guessing when it finds
nothing: reconciliation then says the figure is unavailable instead of reporting a false difference.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from animate.runware.money import to_decimal

AMOUNT_KEYS = ("credits", "cost", "amount", "spend", "spent", "total", "usd", "value")
BALANCE_KEYS = ("balance", "amount", "available", "credits", "total", "value", "usd")
DATE_KEYS = ("date", "day", "period", "startDate", "start", "timestamp")
LIST_KEYS = ("activity", "usage", "days", "daily", "items", "results", "data")
REQUEST_KEYS = ("requests", "count", "tasks")


@dataclass(frozen=True)
class UsageDay:
    day: date
    amount: Decimal
    requests: int | None = None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, dict):
        for key in AMOUNT_KEYS:
            if key in value:
                found = _number(value[key])
                if found is not None:
                    return found
        return None
    return to_decimal(value)


def parse_balance(item: dict[str, Any]) -> Decimal | None:
    """The account balance in USD from a getDetails item: a number, or an object holding one."""
    value = item.get("balance")
    if isinstance(value, dict):
        for key in BALANCE_KEYS:
            if key in value:
                found = to_decimal(value[key])
                if found is not None:
                    return found
        return None
    return to_decimal(value)


def parse_usage_totals(item: dict[str, Any]) -> dict[str, Decimal]:
    """``{"today": ..., "last7Days": ..., ...}`` from a getDetails item's ``usage``, where readable."""
    usage = item.get("usage")
    if not isinstance(usage, dict):
        return {}
    totals = {}
    for name, value in usage.items():
        amount = _number(value)
        if amount is not None:
            totals[str(name)] = amount
    return totals


def _day(value: Any) -> date | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Unix seconds or milliseconds.
        seconds = value / 1000 if value > 10**11 else value
        try:
            return datetime.fromtimestamp(seconds).date()  # noqa: DTZ006 - the provider's day, as sent
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _entries(item: Any) -> Iterable[dict[str, Any]] | None:
    """The list of per-day entries inside an answer item, wherever it is."""
    if isinstance(item, list):
        return [entry for entry in item if isinstance(entry, dict)]
    if not isinstance(item, dict):
        return None
    for key in LIST_KEYS:
        value = item.get(key)
        if isinstance(value, list):
            return [entry for entry in value if isinstance(entry, dict)]
        if isinstance(value, dict):
            nested = _entries(value)
            if nested is not None:
                return nested
            # A mapping of day -> amount.
            days = {_day(name): _number(amount) for name, amount in value.items()}
            if days and all(day is not None and amount is not None for day, amount in days.items()):
                return [{"date": day.isoformat(), "credits": amount} for day, amount in days.items() if day]
    return None


def parse_usage_days(item: Any) -> list[UsageDay] | None:
    """Usage per day from a getUsageActivity answer item; None when no per-day list could be read.

    Several entries for one day (per model, per key...) are added up.
    """
    entries = _entries(item)
    if entries is None:
        return None
    totals: dict[date, list[Any]] = {}
    for entry in entries:
        day = next((found for key in DATE_KEYS if (found := _day(entry.get(key))) is not None), None)
        amount = next((found for key in AMOUNT_KEYS if (found := _number(entry.get(key))) is not None), None)
        if day is None or amount is None:
            continue
        requests = next(
            (
                entry[key]
                for key in REQUEST_KEYS
                if isinstance(entry.get(key), int) and not isinstance(entry.get(key), bool)
            ),
            None,
        )
        bucket = totals.setdefault(day, [Decimal("0"), None])
        bucket[0] += amount
        if requests is not None:
            bucket[1] = (bucket[1] or 0) + requests
    if entries and not totals:
        return None  # a list, but nothing in it we could read: not the same as "no usage"
    return [
        UsageDay(day=day, amount=amount, requests=requests)
        for day, (amount, requests) in sorted(totals.items())
    ]
