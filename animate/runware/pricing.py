"""Prices of Wan2.2 Animate (runware:200@8) from the model page, and the estimate shown before paying.

The page prices per second of output at three tiers: 480p $0.010, 580p $0.014, 720p $0.0212. Money is
``Decimal`` throughout; no float ever touches a price.

Choices the page leaves open, written down here because the estimate depends on them:

* **Tier of an explicit width x height.** The dimension table labels each size with a class
  (360p, 720p, 1080p); the price list has 480p, 580p, 720p. A size is priced by its table label, rounded
  *up* to the nearest listed tier: 360p sizes -> 480p (the cheapest tier; nothing cheaper is listed),
  720p sizes -> 720p, and the single 1080p size (1280x1280) -> 720p, the highest price the page lists.
  580p is reachable only through ``resolution: "580p"``, since no table size carries that label. Using
  the table's own labels (not pixel counts) keeps the estimate tied to how Runware names the sizes.
* **No size at all** (output size taken from the inputs): priced at the 720p tier, the most expensive,
  so an estimate is never below the charge.
* **Billable seconds** are the driving video's duration rounded *up* to a whole second: the page prices
  "1s" units and an estimate must not be lower than the charge. The actual charge is always recorded
  from the ``cost`` field of each result, beside this estimate.
* **Rounding:** results are rounded half-up to 4 decimal places (1/100 of a cent), the precision of
  the page's own 720p price ($0.0212) and of the ``cost`` values Runware returns.
"""

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from animate.runware import spec
from animate.runware.money import COST_QUANTUM

PRICE_PER_SECOND: dict[str, Decimal] = {
    "480p": Decimal("0.010"),
    "580p": Decimal("0.014"),
    "720p": Decimal("0.0212"),
}
# Table label -> price tier (see the module docstring for why).
LABEL_TIER = {"360p": "480p", "720p": "720p", "1080p": "720p"}
FALLBACK_TIER = "720p"


def tier_for_size(width: int, height: int) -> str:
    label = spec.dimension_label(width, height)
    if label is None:
        raise ValueError(f"{width}x{height} is not a supported size of this model")
    return LABEL_TIER[label.split(" ")[0]]


def tier_for_task(task: dict[str, Any]) -> str:
    resolution = task.get("resolution")
    if isinstance(resolution, str) and resolution in PRICE_PER_SECOND:
        return resolution
    width, height = task.get("width"), task.get("height")
    if isinstance(width, int) and isinstance(height, int):
        return tier_for_size(width, height)
    return FALLBACK_TIER


def billable_seconds(driving_video_seconds: float | Decimal) -> int:
    try:
        seconds = Decimal(str(driving_video_seconds))
    except ArithmeticError as exc:
        raise ValueError("the driving video's duration is not a number") from exc
    if not seconds.is_finite() or seconds <= 0:
        raise ValueError("the driving video must last a finite number of seconds above 0")
    # Durations computed in float (frames / fps) carry noise such as 3.0000000000000004: billing is
    # decided at millisecond precision so that noise never costs a whole extra second.
    return max(1, math.ceil(seconds.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)))


def cost_per_result(task: dict[str, Any], driving_video_seconds: float | Decimal) -> Decimal:
    price = PRICE_PER_SECOND[tier_for_task(task)]
    return (price * billable_seconds(driving_video_seconds)).quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)


def estimate(task: dict[str, Any], driving_video_seconds: float | Decimal) -> Decimal:
    """Seconds x tier price x numberResults, as a Decimal rounded to 1/100 of a cent."""
    results = task.get("numberResults", 1)
    if not isinstance(results, int) or isinstance(results, bool) or results < 1:
        results = 1
    return (cost_per_result(task, driving_video_seconds) * results).quantize(
        COST_QUANTUM, rounding=ROUND_HALF_UP
    )
