"""Reading money that arrives as JSON numbers. Kept apart so the spec's result parser and pricing share it."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# The precision of the page's own 720p price ($0.0212) and of the cost values Runware returns.
COST_QUANTUM = Decimal("0.0001")
# No single result costs anywhere near this; a larger "cost" is garbage, not money.
MAX_COST = Decimal("1000000")


def to_decimal(cost: Any) -> Decimal | None:
    """A provider ``cost`` (a JSON float) as an exact Decimal via its shortest repr (0.18, not
    0.17999...), rounded half-up to 1/100 of a cent; None if absent, negative, huge or not a number."""
    if cost is None or isinstance(cost, bool) or not isinstance(cost, int | float | str | Decimal):
        return None
    try:
        value = Decimal(str(cost))
        if not value.is_finite() or value < 0 or value > MAX_COST:
            return None
        return value.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
    except (ArithmeticError, ValueError):
        return None
