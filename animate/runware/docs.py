"""Render the parameter reference (docs/parameters.md) from spec.py, so the docs cannot drift from it.

Run ``python -m animate.runware.docs > docs/parameters.md`` (``make docs``) after changing spec.py;
tests/runware/test_docs.py fails while the committed file differs from what this renders.
"""

import sys
from typing import Any

from animate.runware import pricing, spec

HEADER = """\
# Wan2.2 Animate request parameters

Generated from `animate/runware/spec.py` by `python -m animate.runware.docs`; do not edit by hand.

Every `videoInference` task for `runware:200@8` is checked against this reference before it is sent,
by the forms, the API and the local sandbox alike. Paths are dotted as Runware names them; inside the
`lora` list a parameter is written `lora[].weight`, and a problem names the row, as in `lora[0].weight`.
"""


def render() -> str:
    parts = [HEADER]
    for group, title in spec.GROUPS:
        parts.append(f"## {title}\n")
        parts.append("| Parameter | Label | Type | Required | Default | Accepts | Description |")
        parts.append("| --- | --- | --- | --- | --- | --- | --- |")
        parts.extend(_row(param) for param in spec.PARAMETERS if param.group == group)
        parts.append("")
    parts.append("## Supported sizes\n")
    parts.append("`width` x `height` must be one of these pairs:\n")
    parts.append("| Configuration | Dimensions |")
    parts.append("| --- | --- |")
    parts.extend(f"| `{label}` | `{width}x{height}` |" for width, height, label in spec.DIMENSIONS)
    parts.append("")
    parts.extend(_prices())
    parts.append("\n## Rules\n")
    parts.extend(f"- {rule}" for rule in spec.RULES)
    parts.append("\n## Problem codes\n")
    parts.append("| Code | Meaning |")
    parts.append("| --- | --- |")
    parts.extend(f"| `{code}` | {meaning} |" for code, meaning in spec.ERROR_CODES.items())
    return "\n".join(parts) + "\n"


def _prices() -> list[str]:
    """How a size maps to a price tier: the one mapping the quote and the sandbox's charge share."""
    lines = [
        "## Prices\n",
        "Runware prices each second of output (the driving video's duration, rounded up to a whole "
        "second) per result, at three tiers. What decides the tier:\n",
        "- a `resolution` preset is its own tier, whatever table row is rendered for it;",
        "- an explicit `width` x `height` is priced by its table label, rounded up to a listed tier "
        "(360p rows at 480p; 720p rows and the one 1080p row at 720p);",
        "- with no size at all Runware picks a row from the inputs' aspect ratio, so the price is only "
        "known as a range, from the cheapest to the dearest tier a row can have "
        f"({pricing.RENDER_TIERS[0]} to {pricing.RENDER_TIERS[-1]}); the quote shows the range, the budget "
        "reserves its top, and the charge is that of the row rendered. The create page therefore "
        "defaults to an explicit size: the cheapest row of the labelled aspect ratio nearest the driving "
        "video's.\n",
        "| Tier | Per second | Chosen by |",
        "| --- | --- | --- |",
    ]
    for tier, price in pricing.PRICE_PER_SECOND.items():
        sizes = [f"`{w}x{h}`" for w, h, _ in spec.DIMENSIONS if pricing.tier_for_size(w, h) == tier]
        chosen = ", ".join([f'`resolution: "{tier}"`', *sizes])
        lines.append(f"| {tier} | ${price} | {chosen} |")
    return lines


def _row(param: spec.Parameter) -> str:
    accepts = spec.describe(param)
    if param.paired_with:
        accepts += f"; use with `{param.paired_with}`"
    if param.excludes:
        accepts += "; not with " + " or ".join(f"`{name}`" for name in param.excludes)
    cells = (
        f"`{param.path}`",
        param.label,
        param.type,
        "yes" if param.required else "",
        _default(param.default),
        accepts,
        param.description,
    )
    return "| " + " | ".join(cells) + " |"


def _default(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    return f"`{value}`"


if __name__ == "__main__":
    # Bytes, so the prompt default (Chinese text) survives a terminal with a non-UTF-8 locale.
    sys.stdout.buffer.write(render().encode("utf-8"))
