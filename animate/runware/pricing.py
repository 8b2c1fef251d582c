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
* **A resolution preset is its own tier**: ``resolution: "580p"`` is charged at the 580p price whatever
  row of the table Runware renders for it (the page prices presets by name).
* **What is charged is what is rendered.** A task's tier is decided by the size of the video it
  produces: the preset's tier when a preset was asked for, else the table label of the rendered
  width x height (``tier_for_render``). The sandbox charges by exactly this function.
* **No size at all** (Runware takes the size from the inputs): the rendered row is Runware's choice, so
  the price is only known as a range, from the cheapest to the dearest tier any table row can have
  (``price_range``: 480p .. 720p). The quote shows that range and why; the budget reserves its top
  (``estimate``), so a reservation is never below the charge. The create page avoids the range by
  defaulting to an explicit size near the inputs' aspect ratio (``suggested_size``).
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


def _preset(task: dict[str, Any]) -> str | None:
    resolution = task.get("resolution")
    return resolution if isinstance(resolution, str) and resolution in PRICE_PER_SECOND else None


def _explicit_size(task: dict[str, Any]) -> tuple[int, int] | None:
    width, height = task.get("width"), task.get("height")
    if isinstance(width, int) and isinstance(height, int):
        return width, height
    return None


def tier_for_task(task: dict[str, Any]) -> str:
    """The tier a task is charged at when that is known before rendering; else the dearest possible."""
    preset = _preset(task)
    if preset is not None:
        return preset
    size = _explicit_size(task)
    if size is not None:
        return tier_for_size(*size)
    return FALLBACK_TIER


def tier_for_render(task: dict[str, Any], width: int, height: int) -> str:
    """The tier a task is charged at once it rendered ``width`` x ``height``: its preset, else the
    rendered size's table label (see the module docstring)."""
    return _preset(task) or tier_for_size(width, height)


def is_exact(task: dict[str, Any]) -> bool:
    """True when the price is known before rendering: a preset or an explicit size was chosen."""
    return _preset(task) is not None or _explicit_size(task) is not None


# Every tier a rendered table row can be charged at, cheapest first (the range of a size left to Runware).
RENDER_TIERS: tuple[str, ...] = tuple(
    sorted({LABEL_TIER[label.split(" ")[0]] for _, _, label in spec.DIMENSIONS}, key=PRICE_PER_SECOND.get)
)
RANGE_REASON = (
    "Size left to Runware: it picks a row of the size table from the inputs' aspect ratio, so the "
    "price is only known to lie between the cheapest and the dearest tier. Choose a size for an exact price."
)


def price_range(task: dict[str, Any], driving_video_seconds: float | Decimal) -> tuple[Decimal, Decimal]:
    """The lowest and highest price of the whole task (every result); equal when the tier is known."""
    if is_exact(task):
        price = estimate(task, driving_video_seconds)
        return price, price
    low, high = RENDER_TIERS[0], RENDER_TIERS[-1]
    return (
        estimate({**task, "resolution": low}, driving_video_seconds),
        estimate({**task, "resolution": high}, driving_video_seconds),
    )


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


def cost_per_result(
    task: dict[str, Any], driving_video_seconds: float | Decimal, *, tier: str | None = None
) -> Decimal:
    price = PRICE_PER_SECOND[tier or tier_for_task(task)]
    return (price * billable_seconds(driving_video_seconds)).quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)


def cost_of_render(
    task: dict[str, Any], *, width: int, height: int, driving_video_seconds: float | Decimal
) -> Decimal:
    """What one rendered result of ``width`` x ``height`` costs: the charge the sandbox reports."""
    return cost_per_result(task, driving_video_seconds, tier=tier_for_render(task, width, height))


# --- the size the create page suggests -------------------------------------------------------------

# Aspect ratios people name, for saying which one a video is closest to.
NAMED_RATIOS = ((1, 1), (4, 3), (3, 4), (3, 2), (2, 3), (16, 9), (9, 16), (21, 9), (9, 21), (4, 5), (5, 4))


def ratio_name(width: int, height: int) -> str:
    """ "16:9" for 1920x1080 (and for 1918x1080): the named ratio within 2 %, else ``w:h`` reduced."""
    aspect = width / height
    for a, b in NAMED_RATIOS:
        if abs(math.log(aspect / (a / b))) < 0.02:
            return f"{a}:{b}"
    divisor = math.gcd(width, height)
    return f"{width // divisor}:{height // divisor}"


def label_ratio(label: str) -> tuple[int, int]:
    """The aspect ratio a table label names: (16, 9) for "360p (16:9)"."""
    a, b = label.split("(", 1)[1].rstrip(")").split(":")
    return int(a), int(b)


def suggested_size(width: int, height: int) -> tuple[int, int]:
    """The table row for an input of ``width`` x ``height``: the row whose labelled aspect ratio is
    nearest, then the cheapest tier, then the smallest. Several rows share a ratio (832x480 and 1280x704
    are both "16:9"): the cheap one is the default, and the user may pick a larger one."""

    def distance(row: tuple[int, int, str]) -> tuple[float, Decimal, int]:
        w, h, label = row
        a, b = label_ratio(label)
        return (
            round(abs(math.log((a / b) / (width / height))), 6),
            PRICE_PER_SECOND[tier_for_size(w, h)],
            w * h,
        )

    w, h, _ = min(spec.DIMENSIONS, key=distance)
    return w, h


def estimate(task: dict[str, Any], driving_video_seconds: float | Decimal) -> Decimal:
    """Seconds x tier price x numberResults, as a Decimal rounded to 1/100 of a cent (the top of the
    range when the size is left to Runware)."""
    results = task.get("numberResults", 1)
    if not isinstance(results, int) or isinstance(results, bool) or results < 1:
        results = 1
    return (cost_per_result(task, driving_video_seconds) * results).quantize(
        COST_QUANTUM, rounding=ROUND_HALF_UP
    )
