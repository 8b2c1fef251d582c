"""Writing the ledger: the facts every row carries, taken from its generation when the row is written."""

from decimal import Decimal
from typing import Any

from animate.models import Generation
from animate.runware import pricing, spec
from animate.runware.pricing import COST_QUANTUM


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
