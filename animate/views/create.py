"""The creator's page: upload & preview, parameters & quote, submit (and its JSON endpoints)."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
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
)
from animate.models import Asset, Board, Generation
from animate.runware import pricing
from animate.services import budgets, generations, media, teams
from animate.services.boards import boards_for
from animate.uploads import UploadRefusal, file_limits, request_upload_refusal
from animate.views.common import (
    asset_payload,
    int_or_none,
    json_body,
    no_team,
    no_team_json,
    request_ip,
    request_membership,
    team_asset,
)


def _breakdown(quote: generations.Quote) -> str:
    if quote.estimate is None or quote.tier is None or quote.billable_seconds is None:
        return ""
    price = pricing.PRICE_PER_SECOND[quote.tier]
    results = quote.number_results
    return f"{quote.billable_seconds} s × ${price} × {results} result{'' if results == 1 else 's'}"


# --- pages --------------------------------------------------------------------------------------------


@login_required
@require_GET
def create(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    if membership is None:
        return no_team(request)
    form = ParameterForm()
    image = video = parent = None
    if "from" in request.GET:
        pk = int_or_none(request.GET["from"])
        if pk is None:
            raise Http404("No such generation.")
        parent = get_object_or_404(
            Generation.objects.select_related("image", "video"), pk=pk, team_id=membership.team_id
        )
        parameters = dict(parent.parameters)
        # "Re-run with tweaks" from a reviewed output starts from that very output's seed.
        source = parent.outputs.filter(pk=int_or_none(request.GET.get("output"))).first()
        if source is not None and source.seed is not None:
            parameters["seed"] = source.seed
        form = parameter_form_initial(parameters)
        image, video = parent.image, parent.video
    mode = (parent.parameters.get("mode") if parent else None) or None
    context = {
        "nav": "create",
        "membership": membership,
        "can_spend": membership.can_spend,
        "form": form,
        "parent": parent,
        "boards": boards_for(membership),
        "board_initial": parent.board_id if parent else None,
        "keep_audio": parent.keep_audio if parent else True,
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
    membership = request_membership(request)
    if membership is None:
        return no_team_json()
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
        stored = media.asset_store(
            team=membership.team, user=request.user, kind=kind, uploaded_file=form.cleaned_data["file"]
        )
    except media.MediaRejected as exc:
        label = AssetUploadForm.KIND_LABELS[kind]
        message = exc.message if label.lower() in exc.message.lower() else f"{label}: {exc.message}"
        return JsonResponse({"field": exc.field or kind, "error": message}, status=400)
    # The team's existing asset for the same bytes is answered 200 and says so.
    return JsonResponse(
        {**asset_payload(stored.asset), "reused": stored.reused}, status=200 if stored.reused else 201
    )


@login_required
@require_POST
def quote(request: HttpRequest) -> JsonResponse:
    """The exact price and every problem for a set of choices; nothing is saved."""
    membership = request_membership(request)
    if membership is None:
        return no_team_json()
    body = json_body(request)
    if body is None:
        return JsonResponse({"valid": False, "problems": {"parameters": "Send a JSON object."}}, status=400)
    problems: dict[str, str] = {}
    video = team_asset(membership, body.get("video_id"), Asset.Kind.VIDEO)
    if body.get("video_id") not in (None, "") and video is None:
        problems["video"] = "Driving video: not found in your team; upload it again."
    image = team_asset(membership, body.get("image_id"), Asset.Kind.IMAGE)
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
            "budget": _headroom(membership, result.estimate if valid else None),
        }
    )


def _headroom(membership: Any, amount: Any) -> dict[str, Any] | None:
    """The budget line beside the price ("remaining after this run"), for those who can spend."""
    if not membership.can_spend:
        return None
    headroom = budgets.budget_headroom(membership=membership, amount=amount)
    return headroom.as_dict() if headroom is not None else None


def _keep_audio(value: Any) -> bool | None:
    """The "Keep the driving video's audio" box: JSON true/false, a form's "on"/"off"; None when unsent."""
    if value in (None, ""):
        return None
    return value is True or str(value).lower() in {"on", "true", "1"}


@login_required
@require_POST
def generation_create(request: HttpRequest) -> JsonResponse:
    """Submit: JSON ``{image_id, video_id, choices, parent_id}`` or the page's form fields."""
    membership = request_membership(request)
    try:
        teams.membership_require_spender(membership)
    except teams.NotAllowed as exc:
        return JsonResponse({"error": str(exc)}, status=403)
    assert membership is not None
    problems: dict[str, str] = {}
    if request.content_type == "application/json":
        body = json_body(request)
        if body is None:
            return JsonResponse({"problems": {"parameters": "Send a JSON object."}}, status=400)
        form, problems = parameter_form_for_choices(body.get("choices") or {})
    else:
        body = request.POST.dict()
        form = ParameterForm(data=request.POST)
    parent = None
    if body.get("parent_id") not in (None, ""):
        parent_pk = int_or_none(body.get("parent_id"))
        parent = (
            Generation.objects.filter(team_id=membership.team_id, pk=parent_pk).first() if parent_pk else None
        )
        if parent is None:
            problems["parent"] = "The generation to re-run was not found in your team."
    board = None
    if body.get("board_id") not in (None, ""):
        board_pk = int_or_none(body.get("board_id"))
        board = Board.objects.filter(team_id=membership.team_id, pk=board_pk).first() if board_pk else None
        if board is None:
            problems["board"] = "The board was not found in your team."
    if not form.is_valid():
        for key, message in form.problems().items():
            problems.setdefault(key, message)
    if problems:
        return JsonResponse({"problems": problems}, status=400)
    try:
        generation = generations.generation_create(
            membership=membership,
            image=team_asset(membership, body.get("image_id"), Asset.Kind.IMAGE),
            video=team_asset(membership, body.get("video_id"), Asset.Kind.VIDEO),
            choices=form.choices(),
            parent=parent,
            board=board,
            ip=request_ip(request),
            keep_audio=_keep_audio(body.get("keep_audio")),
        )
    except teams.NotAllowed as exc:
        return JsonResponse({"error": str(exc)}, status=403)
    except generations.GenerationRejected as exc:
        return JsonResponse({"problems": exc.problems}, status=400)
    url = reverse("generation-detail", kwargs={"pk": generation.pk})
    return JsonResponse(
        {"id": generation.pk, "url": url, "event": generations.generation_event(generation)}, status=201
    )
