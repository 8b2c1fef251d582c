"""A creator's runs: the list of their generations and one generation's live result page."""

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from animate.forms import (
    user_parameters,
)
from animate.models import Generation, Output
from animate.services import eta, generations, runs
from animate.views.common import (
    no_team,
    request_membership,
)

PAGE_SIZE = 25
STEPS = (
    (Generation.Status.QUEUED, "Queued", "created_at"),
    (Generation.Status.SUBMITTED, "Submitted", "submitted_at"),
    (Generation.Status.PROCESSING, "Processing", "processing_at"),
    (Generation.Status.RECEIVING, "Receiving", "receiving_at"),
    (Generation.Status.DONE, "Done", "completed_at"),
)


def _size_text(parameters: dict[str, Any]) -> str:
    if parameters.get("resolution"):
        return str(parameters["resolution"])
    if parameters.get("width") and parameters.get("height"):
        return f"{parameters['width']}×{parameters['height']}"
    return "input size"


def parameters_summary(parameters: dict[str, Any], number_results: int) -> str:
    mode = parameters.get("mode") or "animate"
    fps = parameters.get("fps") or 16
    results = f"{number_results} result{'' if number_results == 1 else 's'}"
    return f"{str(mode).capitalize()} · {_size_text(parameters)} · {fps} fps · {results}"


def status_steps(generation: Generation) -> list[dict[str, Any]]:
    """The lifecycle as the status card shows it; mirrors ``renderSteps`` in static/js/status.js."""
    current = Generation.ORDER[Generation.Status(generation.status)]
    failed = generation.status == Generation.Status.FAILED
    steps = []
    for index, (status, label, stamp_field) in enumerate(STEPS):
        stamp = getattr(generation, stamp_field) if stamp_field else None
        state = ""
        if index < current:
            state = "is-done" if not failed or stamp or index == 0 else "is-skipped"
        elif index == current:
            state = "is-current"
            if generation.is_terminal:
                state = "is-failed is-current is-final" if failed else "is-done is-current is-final"
        steps.append(
            {
                "key": status,
                "label": _final_label(generation) if status == Generation.Status.DONE else label,
                "state": state,
                "time": stamp,
            }
        )
    return steps


def _final_label(generation: Generation) -> str:
    if generation.status == Generation.Status.FAILED:
        return "Failed"
    if generation.is_partial:
        return "Done, some results failed"
    return "Done"


def parameter_rows(parameters: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, spec path, value) for each parameter that was set, in the spec's order."""
    rows = []
    by_key = {parameter.key: parameter for parameter in user_parameters() if "[" not in parameter.path}
    for key, parameter in by_key.items():
        if key not in parameters:
            continue
        value = parameters[key]
        if key == "lora" and isinstance(value, list):
            text = "; ".join(
                f"{row.get('model')} (weight {row.get('weight', 1)}, {row.get('transformer', 'both')})"
                for row in value
                if isinstance(row, dict)
            )
        elif isinstance(value, bool):
            text = "on" if value else "off"
        else:
            text = str(value)
        rows.append((parameter.label, parameter.path, text))
    for key in sorted(set(parameters) - set(by_key)):
        rows.append((key, key, str(parameters[key])))
    return rows


def _poster(generation: Generation) -> tuple[str | None, bool]:
    """The first result's poster, else the driving video's; and whether it is a result's."""
    for output in generation.outputs.all():
        if output.poster:
            return reverse("media-output-poster", kwargs={"pk": output.pk}), True
    if generation.video.poster:
        return reverse("media-asset-poster", kwargs={"pk": generation.video_id}), False
    return None, False


@login_required
@require_GET
def generation_list(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    if membership is None:
        return no_team(request)
    queryset = (
        Generation.objects.filter(team_id=membership.team_id, created_by=request.user)
        .select_related("video")
        .prefetch_related(
            Prefetch("outputs", queryset=Output.objects.order_by("created_at", "pk")), "cost_entries"
        )
        .order_by("-created_at", "-pk")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rates = eta.team_rates(team_id=membership.team_id)
    rows = []
    for generation in page:
        poster, poster_is_output = _poster(generation)
        received = len(generation.outputs.all())
        unstored = generations.charged_unstored(generation)
        rows.append(
            {
                "charge_flag": generations.charge_flag(generation, unstored=unstored, received=received),
                "generation": generation,
                "poster": poster,
                "poster_is_output": poster_is_output,
                "summary": parameters_summary(generation.parameters, generation.number_results),
                "results_received": received,
                "status_label": generations.status_label(generation, received=received),
                # The row's live state (elapsed time, ETA, "taking longer") starts from this.
                "event": generations.generation_event(generation, rates=rates),
            }
        )
    context = {
        "nav": "generations",
        "membership": membership,
        "page": page,
        "rows": rows,
        "events": [row["event"] for row in rows],
    }
    return render(request, "animate/generation_list.html", context)


@login_required
@require_GET
def generation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    if membership is None:
        return no_team(request)
    generation = get_object_or_404(
        Generation.objects.select_related("image", "video", "created_by", "parent"),
        pk=pk,
        team_id=membership.team_id,
    )
    outputs = list(generation.outputs.order_by("created_at", "pk"))
    event = generations.generation_event(generation)
    context = {
        "status_label": event["status_label"],
        "is_admin": membership.is_admin,
        "stopped": generation.error_code == runs.STOPPED_CODE,
        "nav": "generations" if generation.created_by_id == request.user.pk else "",
        "membership": membership,
        "generation": generation,
        "outputs": outputs,
        "steps": status_steps(generation),
        "summary": parameters_summary(generation.parameters, generation.number_results),
        "parameter_rows": parameter_rows(generation.parameters),
        "sent_task": json.dumps(generation.sent_task, indent=2, ensure_ascii=False)
        if generation.sent_task
        else "",
        "any_nsfw": any(output.nsfw for output in outputs),
        "event": event,
        "charge_flag": event["charge_flag"],
        "can_spend": membership.can_spend,
    }
    return render(request, "animate/generation_detail.html", context)
