"""The creator's pages: upload & preview, parameters & quote, submit, live status, result.

Views stay thin: they find the user's membership, scope every lookup to its team, translate the request
through a form and call a service. What the page shows live comes from ``static/js/live.js``.
"""

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from animate.forms import (
    AssetUploadForm,
    ParameterForm,
    parameter_form_for_choices,
    parameter_form_initial,
    user_parameters,
)
from animate.models import Asset, Generation, Membership, Output
from animate.runware import pricing
from animate.services import generations, media, teams
from animate.uploads import UploadRefusal, file_limits, request_upload_refusal

PAGE_SIZE = 25
STEPS = (
    (Generation.Status.QUEUED, "Queued", "created_at"),
    (Generation.Status.SUBMITTED, "Submitted", "submitted_at"),
    (Generation.Status.PROCESSING, "Processing", "processing_at"),
    (Generation.Status.RECEIVING, "Receiving", None),
    (Generation.Status.DONE, "Done", "completed_at"),
)


# --- helpers ------------------------------------------------------------------------------------------


def _no_team(request: HttpRequest) -> HttpResponse:
    return render(request, "animate/no_team.html", {}, status=403)


def _no_team_json() -> JsonResponse:
    return JsonResponse({"error": "You are not a member of any team."}, status=403)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _json_body(request: HttpRequest) -> dict[str, Any] | None:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _team_asset(membership: Membership, asset_id: Any, kind: str) -> Asset | None:
    pk = _int_or_none(asset_id)
    if pk is None:
        return None
    return Asset.objects.filter(team_id=membership.team_id, kind=kind, pk=pk).first()


def asset_payload(asset: Asset, *, mode: str | None = None) -> dict[str, Any]:
    """What the create page shows about an uploaded input."""
    return media.asset_summary(asset, mode=mode)


def _breakdown(quote: generations.Quote) -> str:
    if quote.estimate is None or quote.tier is None or quote.billable_seconds is None:
        return ""
    price = pricing.PRICE_PER_SECOND[quote.tier]
    results = quote.number_results
    return f"{quote.billable_seconds} s × ${price} × {results} result{'' if results == 1 else 's'}"


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
            state = "is-done" if not failed or stamp or index == 0 else ""
        elif index == current:
            state = "is-current"
            if generation.is_terminal:
                state = "is-failed is-current is-final" if failed else "is-done is-current is-final"
        steps.append(
            {
                "key": status,
                "label": "Failed" if failed and status == Generation.Status.DONE else label,
                "state": state,
                "time": stamp,
            }
        )
    return steps


def _parameter_rows(parameters: dict[str, Any]) -> list[tuple[str, str, str]]:
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


# --- pages --------------------------------------------------------------------------------------------


@login_required
@require_GET
def create(request: HttpRequest) -> HttpResponse:
    membership = teams.membership_for(request.user)
    if membership is None:
        return _no_team(request)
    form = ParameterForm()
    image = video = parent = None
    if "from" in request.GET:
        pk = _int_or_none(request.GET["from"])
        if pk is None:
            raise Http404("No such generation.")
        parent = get_object_or_404(
            Generation.objects.select_related("image", "video"), pk=pk, team_id=membership.team_id
        )
        form = parameter_form_initial(parent.parameters)
        image, video = parent.image, parent.video
    mode = (parent.parameters.get("mode") if parent else None) or None
    context = {
        "nav": "create",
        "membership": membership,
        "can_spend": membership.can_spend,
        "form": form,
        "parent": parent,
        "image_data": asset_payload(image, mode=mode) if image else None,
        "video_data": asset_payload(video, mode=mode) if video else None,
        "webhook_unreachable": not generations.public_base_url_reachable(),
        "max_bytes": file_limits(),
        "urls": {
            "upload": reverse("asset-upload"),
            "quote": reverse("quote"),
            "create": reverse("generation-create"),
            "list": reverse("generation-list"),
        },
    }
    return render(request, "animate/create.html", context)


@login_required
@require_GET
def generation_list(request: HttpRequest) -> HttpResponse:
    membership = teams.membership_for(request.user)
    if membership is None:
        return _no_team(request)
    queryset = (
        Generation.objects.filter(team_id=membership.team_id, created_by=request.user)
        .select_related("video")
        .prefetch_related(Prefetch("outputs", queryset=Output.objects.order_by("created_at", "pk")))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for generation in page:
        poster, poster_is_output = _poster(generation)
        rows.append(
            {
                "generation": generation,
                "poster": poster,
                "poster_is_output": poster_is_output,
                "summary": parameters_summary(generation.parameters, generation.number_results),
                "results_received": len(generation.outputs.all()),
            }
        )
    context = {"nav": "generations", "membership": membership, "page": page, "rows": rows}
    return render(request, "animate/generation_list.html", context)


@login_required
@require_GET
def generation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = teams.membership_for(request.user)
    if membership is None:
        return _no_team(request)
    generation = get_object_or_404(
        Generation.objects.select_related("image", "video", "created_by", "parent"),
        pk=pk,
        team_id=membership.team_id,
    )
    outputs = list(generation.outputs.order_by("created_at", "pk"))
    context = {
        "nav": "generations" if generation.created_by_id == request.user.pk else "",
        "membership": membership,
        "generation": generation,
        "outputs": outputs,
        "steps": status_steps(generation),
        "summary": parameters_summary(generation.parameters, generation.number_results),
        "parameter_rows": _parameter_rows(generation.parameters),
        "sent_task": json.dumps(generation.sent_task, indent=2, ensure_ascii=False)
        if generation.sent_task
        else "",
        "any_nsfw": any(output.nsfw for output in outputs),
        "event": generations.generation_event(generation),
        "can_spend": membership.can_spend,
    }
    return render(request, "animate/generation_detail.html", context)


# --- JSON endpoints ---------------------------------------------------------------------------------


def upload_refusal_response(refusal: UploadRefusal) -> JsonResponse:
    return JsonResponse({"field": "file", "error": refusal.message}, status=refusal.status)


def refuse_oversized_uploads(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer 413/411/400 from the request's headers before the body is parsed.

    The CSRF middleware reads ``request.POST`` (which parses the whole multipart body to disk) when it
    checks the token, so the middleware is told to skip this view and the same check runs here, after
    the size check (``csrf_protect``).
    """
    protected = csrf_protect(view)

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refusal = request_upload_refusal(request)
        if refusal is not None:
            return upload_refusal_response(refusal)
        return protected(request, *args, **kwargs)

    guarded = csrf_exempt(guarded)
    guarded.upload_refusal_response = upload_refusal_response  # type: ignore[attr-defined]
    return guarded


@login_required
@require_POST
@refuse_oversized_uploads
def asset_upload(request: HttpRequest) -> JsonResponse:
    membership = teams.membership_for(request.user)
    if membership is None:
        return _no_team_json()
    form = AssetUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        kind = request.POST.get("kind", "")
        label = AssetUploadForm.KIND_LABELS.get(kind, "File")
        if "kind" in form.errors:
            return JsonResponse(
                {"field": "kind", "error": "Say whether this is the image or the video."}, status=400
            )
        return JsonResponse(
            {"field": kind or "file", "error": f"{label}: choose a file to upload."}, status=400
        )
    kind = form.cleaned_data["kind"]
    try:
        asset = media.asset_create(
            team=membership.team, user=request.user, kind=kind, uploaded_file=form.cleaned_data["file"]
        )
    except media.MediaRejected as exc:
        label = AssetUploadForm.KIND_LABELS[kind]
        message = exc.message if label.lower() in exc.message.lower() else f"{label}: {exc.message}"
        return JsonResponse({"field": exc.field or kind, "error": message}, status=400)
    return JsonResponse(asset_payload(asset), status=201)


@login_required
@require_POST
def quote(request: HttpRequest) -> JsonResponse:
    """The exact price and every problem for a set of choices; nothing is saved."""
    membership = teams.membership_for(request.user)
    if membership is None:
        return _no_team_json()
    body = _json_body(request)
    if body is None:
        return JsonResponse({"valid": False, "problems": {"parameters": "Send a JSON object."}}, status=400)
    problems: dict[str, str] = {}
    video = _team_asset(membership, body.get("video_id"), Asset.Kind.VIDEO)
    if body.get("video_id") not in (None, "") and video is None:
        problems["video"] = "Driving video: not found in your team; upload it again."
    image = _team_asset(membership, body.get("image_id"), Asset.Kind.IMAGE)
    form, translation_problems = parameter_form_for_choices(body.get("choices") or {})
    problems.update(translation_problems)
    form_valid = form.is_valid()
    for key, message in form.problems().items():
        problems.setdefault(key, message)
    # The fields that did clean are checked against the spec too, so every problem shows at once.
    result = generations.generation_quote(choices=form.choices(), video=video)
    for key, message in result.problems.items():
        problems.setdefault(key, message)
    mode = form.cleaned_data.get("mode")
    valid = form_valid and not problems and result.estimate is not None
    return JsonResponse(
        {
            "valid": valid,
            "problems": problems,
            "estimate": str(result.estimate) if valid else None,
            "tier": result.tier if valid else None,
            "billable_seconds": result.billable_seconds if valid else None,
            "number_results": result.number_results,
            "breakdown": _breakdown(result) if valid else "",
            "warnings": {
                "image": media.asset_warnings(image, mode=mode) if image else [],
                "video": media.asset_warnings(video, mode=mode) if video else [],
            },
        }
    )


@login_required
@require_POST
def generation_create(request: HttpRequest) -> JsonResponse:
    """Submit: JSON ``{image_id, video_id, choices, parent_id}`` or the page's form fields."""
    membership = teams.membership_for(request.user)
    try:
        teams.membership_require_spender(membership)
    except teams.NotAllowed as exc:
        return JsonResponse({"error": str(exc)}, status=403)
    assert membership is not None
    problems: dict[str, str] = {}
    if request.content_type == "application/json":
        body = _json_body(request)
        if body is None:
            return JsonResponse({"problems": {"parameters": "Send a JSON object."}}, status=400)
        form, problems = parameter_form_for_choices(body.get("choices") or {})
    else:
        body = request.POST.dict()
        form = ParameterForm(data=request.POST)
    parent = None
    if body.get("parent_id") not in (None, ""):
        parent_pk = _int_or_none(body.get("parent_id"))
        parent = (
            Generation.objects.filter(team_id=membership.team_id, pk=parent_pk).first() if parent_pk else None
        )
        if parent is None:
            problems["parent"] = "The generation to re-run was not found in your team."
    if not form.is_valid():
        for key, message in form.problems().items():
            problems.setdefault(key, message)
    if problems:
        return JsonResponse({"problems": problems}, status=400)
    try:
        generation = generations.generation_create(
            membership=membership,
            image=_team_asset(membership, body.get("image_id"), Asset.Kind.IMAGE),
            video=_team_asset(membership, body.get("video_id"), Asset.Kind.VIDEO),
            choices=form.choices(),
            parent=parent,
        )
    except teams.NotAllowed as exc:
        return JsonResponse({"error": str(exc)}, status=403)
    except generations.GenerationRejected as exc:
        return JsonResponse({"problems": exc.problems}, status=400)
    url = reverse("generation-detail", kwargs={"pk": generation.pk})
    return JsonResponse(
        {"id": generation.pk, "url": url, "event": generations.generation_event(generation)}, status=201
    )
