"""Charts drawn on the server as SVG (no script, no CDN), each with a sentence for screen readers.

The SVG holds only shapes, stretched to its box (``preserveAspectRatio="none"``), so it reads the same at
any width; its labels are HTML around it, which keeps them legible on a phone. Every chart sits above a
table of the same numbers, its full text alternative.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from animate.services.costs import Group

WIDTH = 1000  # user units; the shapes are stretched to the element's size
HEIGHT = 200
SERIES = 8  # colours in costs.css: .series-0 ... .series-7
MAX_SHARES = 7  # more groups are added up as "Other"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    tooltip: str


@dataclass(frozen=True)
class TimeChart:
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (y in user units, label) for gridlines
    x_labels: list[str]  # first, middle, last
    summary: str
    width: int = WIDTH
    height: int = HEIGHT


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    css_class: str
    label: str
    amount: Decimal
    share: Decimal


@dataclass(frozen=True)
class ShareChart:
    segments: list[Segment]
    summary: str
    width: int = WIDTH


def money(value: Decimal) -> str:
    return f"${value:.4f}"


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (the top of the axis)."""
    if value <= 0:
        return Decimal("0.01")
    exponent = value.adjusted()
    for _ in range(2):
        for step in (1, 2, 5):
            candidate = Decimal(step).scaleb(exponent)
            if candidate >= value:
                return candidate
        exponent += 1
    return Decimal(10).scaleb(exponent)


def time_chart(groups: Sequence[Group], *, what: str) -> TimeChart:
    """Bars over time, one per group (days), with gridlines at 0, half and the top of the axis."""
    top = nice_ceiling(max((group.amount for group in groups), default=Decimal("0")))
    count = max(1, len(groups))
    slot = WIDTH / count
    # A few bars stay slim instead of filling the chart.
    bar_width = min(slot * 0.7, WIDTH / 24)
    bars = []
    for index, group in enumerate(groups):
        height = float(group.amount / top) * HEIGHT if top else 0.0
        bars.append(
            Bar(
                x=round(index * slot + (slot - bar_width) / 2, 2),
                y=round(HEIGHT - height, 2),
                width=round(bar_width, 2),
                height=round(height, 2),
                tooltip=f"{group.label}: {money(group.amount)} ({group.entries} entries)",
            )
        )
    ticks = [(0.0, money(top)), (HEIGHT / 2, money(top / 2)), (float(HEIGHT), "$0")]
    labels = [groups[0].label, groups[len(groups) // 2].label, groups[-1].label] if groups else []
    if len(groups) < 3:
        labels = [group.label for group in groups]
    total = sum((group.amount for group in groups), Decimal("0"))
    peak = max(groups, key=lambda group: group.amount, default=None)
    if peak is None or not peak.amount:
        summary = f"{what}: nothing was spent in this range."
    else:
        summary = (
            f"{what}, {len(groups)} bar{'' if len(groups) == 1 else 's'} from {groups[0].label} to "
            f"{groups[-1].label}: total {money(total)}, "
            f"highest {money(peak.amount)} on {peak.label}. The table below lists every value."
        )
    return TimeChart(bars=bars, ticks=ticks, x_labels=labels, summary=summary)


def share_chart(groups: Sequence[Group], *, what: str) -> ShareChart:
    """One bar split into each group's share of the total (largest first; the tail as "Other")."""
    ordered = sorted((group for group in groups if group.amount > 0), key=lambda group: -group.amount)
    shown = list(ordered[:MAX_SHARES])
    rest = ordered[MAX_SHARES:]
    total = sum((group.amount for group in ordered), Decimal("0"))
    items = [(group.label, group.amount) for group in shown]
    if rest:
        items.append((f"Other ({len(rest)})", sum((group.amount for group in rest), Decimal("0"))))
    segments = []
    x = 0.0
    for index, (label, amount) in enumerate(items):
        share = (amount * 100 / total).quantize(Decimal("0.1")) if total else Decimal("0")
        width = float(amount / total) * WIDTH if total else 0.0
        segments.append(
            Segment(round(x, 2), round(width, 2), f"series-{index % SERIES}", label, amount, share)
        )
        x += width
    if not segments:
        summary = f"{what}: nothing was spent in this range."
    else:
        parts = ", ".join(f"{segment.label} {segment.share}%" for segment in segments)
        summary = f"{what}, shares of {money(total)}: {parts}. The table below lists every value."
    return ShareChart(segments=segments, summary=summary)
