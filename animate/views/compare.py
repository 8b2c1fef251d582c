"""Compare two outputs of the team: side by side or overlaid with a wipe, on one transport, with the
parameters that differ."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from animate.models import Membership, Output
from animate.services import gallery
from animate.views.common import int_or_none, no_team, request_membership
from animate.views.generations import parameter_rows
from animate.views.review import team_output_or_404

# Outputs offered in the pickers besides the two compared (newest first).
RECENT = 40


def _facts(output: Output) -> dict[str, tuple[str, str]]:
    """(label, value) of everything worth comparing, keyed so both sides line up."""
    generation = output.generation
    rows = {
        "submitter": ("Submitted by", generation.created_by.get_username() if generation.created_by else "—"),
        "seed": ("Seed", "—" if output.seed is None else str(output.seed)),
        "size": ("Size", f"{output.width}×{output.height}"),
        "duration": ("Duration", f"{output.duration:.2f} s"),
        "fps": ("Frame rate", f"{output.fps:g} fps"),
        "cost": ("Cost", "—" if output.cost is None else f"${output.cost}"),
        "container": ("Container", output.container),
    }
    for label, path, value in parameter_rows(
        {**gallery.card_facts(generation.parameters), **generation.parameters}
    ):
        rows[f"p:{path}"] = (label, value)
    return rows


def differences(a: Output, b: Output) -> list[dict[str, str]]:
    """Only what differs between the two outputs (parameters and facts), in a stable order."""
    left, right = _facts(a), _facts(b)
    rows = []
    for key in [*left, *(key for key in right if key not in left)]:
        label = (left.get(key) or right[key])[0]
        a_value = left.get(key, ("", "default"))[1]
        b_value = right.get(key, ("", "default"))[1]
        if a_value != b_value:
            rows.append({"label": label, "a": a_value, "b": b_value})
    return rows


def _choices(membership: Membership, chosen: list[Output]) -> list[tuple[int, str]]:
    recent = list(
        Output.objects.filter(team_id=membership.team_id, archived_at__isnull=True).order_by(
            "-created_at", "-pk"
        )[:RECENT]
    )
    seen = {output.pk for output in recent}
    options = [*[output for output in chosen if output.pk not in seen], *recent]
    return [
        (output.pk, f"#{output.pk} · generation {output.generation_id} · seed {output.seed}")
        for output in options
    ]


@login_required
@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    if membership is None:
        return no_team(request)
    ids = [int_or_none(request.GET.get(side)) for side in ("a", "b")]
    if any(request.GET.get(side) and pk is None for side, pk in zip(("a", "b"), ids, strict=True)):
        raise Http404("No such output in your team.")
    a, b = (team_output_or_404(membership, pk) if pk is not None else None for pk in ids)
    chosen = [output for output in (a, b) if output is not None]
    context: dict[str, Any] = {
        "nav": "gallery",
        "membership": membership,
        "a": a,
        "b": b,
        "choices": _choices(membership, chosen),
        "rows": differences(a, b) if a is not None and b is not None else [],
        "page_data": {
            "a": a.pk if a else None,
            "b": b.pk if b else None,
            "fps": max(a.fps, b.fps) if a and b else 16,
        },
        "gallery_url": reverse("gallery"),
    }
    return render(request, "animate/compare/compare.html", context)
