"""Quotes and generations: price choices, submit, list and read runs with their outputs."""

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from animate.api.base import (
    CURRENCY,
    NOT_IN_TEAM,
    PAGE_PARAMETERS,
    ApiView,
    CanSpend,
    absolute_url,
    errors,
    object_id,
    problem_path,
)
from animate.api.serializers import (
    GenerationPageSerializer,
    GenerationSerializer,
    QuoteSerializer,
)
from animate.models import Asset, Board, Generation, Membership, Output
from animate.services import runs
from animate.services.audit import client_ip
from animate.services.budgets import budget_headroom
from animate.services.eta import eta_for_task
from animate.services.generations import (
    SERVER_KEYS,
    GenerationRejected,
    charge_flag,
    charged_unstored,
    generation_create,
    generation_quote,
    status_label,
)
from animate.services.media import asset_warnings
from animate.services.teams import NotAllowed


def output_data(request: Request, output: Output) -> dict[str, Any]:
    return {
        "id": output.pk,
        "video_uuid": output.video_uuid,
        "seed": output.seed,
        "nsfw": output.nsfw,
        "cost": output.cost,
        "width": output.width,
        "height": output.height,
        "fps": output.fps,
        "frames": output.frames,
        "duration": output.duration,
        "codec": output.codec,
        "container": output.container,
        "url": absolute_url(request, "media-output", output.pk),
        "poster": absolute_url(request, "media-output-poster", output.pk) if output.poster else None,
        "created_at": output.created_at,
    }


def generation_data(request: Request, generation: Generation) -> dict[str, Any]:
    failed = bool(generation.error_code or generation.error_message)
    outputs = list(generation.outputs.all())
    unstored = charged_unstored(generation, outputs=outputs)
    return {
        "id": generation.pk,
        "status": generation.status,
        "status_label": status_label(generation, received=len(outputs)),
        "task_uuid": generation.task_uuid,
        "image": generation.image_id,
        "video": generation.video_id,
        "parent": generation.parent_id,
        "board": generation.board_id,
        "created_by": generation.created_by.get_username() if generation.created_by else None,
        "parameters": generation.parameters,
        "number_results": generation.number_results,
        "estimated_cost": generation.estimated_cost,
        "actual_cost": generation.actual_cost,
        "reserved_cost": generation.reserved_cost,
        "charged_no_result": unstored > 0,
        "charge_flag": charge_flag(generation, unstored=unstored, received=len(outputs)),
        "currency": CURRENCY,
        "error": {"code": generation.error_code, "message": generation.error_message} if failed else None,
        "results_failed": generation.results_failed,
        "dismissed": generation.dismissed_at is not None,
        "timestamps": {
            "created": generation.created_at,
            "submitted": generation.submitted_at,
            "processing": generation.processing_at,
            "receiving": generation.receiving_at,
            "completed": generation.completed_at,
            "updated": generation.updated_at,
        },
        # Read from the prefetch cache (``generations_for``), so a page costs the same queries at any size.
        "outputs": [output_data(request, output) for output in outputs],
    }


def generations_for(membership: Membership) -> QuerySet[Generation]:
    return (
        Generation.objects.filter(team_id=membership.team_id)
        .select_related("created_by")
        .prefetch_related(
            Prefetch("outputs", queryset=Output.objects.order_by("created_at", "id")), "cost_entries"
        )
        .order_by("-created_at", "-id")
    )


# Flat and nested keys may be mixed: the spec's build_task takes both, and validate names any unknown
# key by its full dotted path, so nothing a client sends is dropped silently. Keys the server sets are
# refused by name for the same reason (the service would otherwise ignore them).
SERVER_SET_MESSAGE = "set by the server; leave it out"
PARAMETERS_HELP = (
    "Spec parameters of runware:200@8, either flat as Runware names the leaves (`fps`, `resolution`, "
    "`mode` for advancedFeatures.wanAnimate.mode, `safetyMode` for safety.mode, `lora` rows, ...) or "
    "nested exactly as in a Runware task (`advancedFeatures: {wanAnimate: {mode: ...}}`). The server "
    f"sets {', '.join(f'`{key}`' for key in sorted(SERVER_KEYS))}; sending any of them is a 400 "
    "naming it."
)


class ParametersField(serializers.DictField):
    """The ``parameters`` object; a key the server sets is an error under ``parameters.<key>``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, default=dict, help_text=PARAMETERS_HELP, **kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        refused = {key: [SERVER_SET_MESSAGE] for key in value if key in SERVER_KEYS}
        if refused:
            raise serializers.ValidationError(refused)
        return value


REQUEST_EXAMPLE = OpenApiExample(
    "Animate at 480p",
    request_only=True,
    value={
        "image": 1,
        "video": 2,
        "parameters": {
            "resolution": "480p",
            "fps": 16,
            "numberResults": 1,
            "advancedFeatures": {"wanAnimate": {"mode": "animate"}},
        },
    },
)


def chosen_mode(task: dict[str, Any]) -> str | None:
    features = task.get("advancedFeatures")
    wan = features.get("wanAnimate") if isinstance(features, dict) else None
    mode = wan.get("mode") if isinstance(wan, dict) else None
    return mode if isinstance(mode, str) else None


# --- quotes --------------------------------------------------------------------------------------


class QuoteApi(ApiView):
    class QuoteInputSerializer(serializers.Serializer):
        image = object_id(required=False, allow_null=True, help_text="Character image asset id.")
        video = object_id(
            required=False, allow_null=True, help_text="Driving video asset id; needed for a price."
        )
        parameters = ParametersField()

    @extend_schema(
        operation_id="quote",
        tags=["quote"],
        summary="Validate choices and price them, saving nothing",
        description="Problems with the choices are answered 200 with `valid: false`; only a malformed "
        "body (or a key the server sets in `parameters`) is a 400.",
        request=QuoteInputSerializer,
        responses={200: QuoteSerializer, **errors(400, 401, 403)},
        examples=[REQUEST_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        payload = self.QuoteInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        problems: dict[str, str] = {}
        warnings: dict[str, list[str]] = {}
        assets: dict[str, Asset | None] = {}
        for field, kind in (("image", Asset.Kind.IMAGE), ("video", Asset.Kind.VIDEO)):
            assets[field] = self.team_asset(data.get(field), kind)
            if data.get(field) is not None and assets[field] is None:
                problems[field] = NOT_IN_TEAM[kind]
        quote = generation_quote(choices=data["parameters"], video=assets["video"])
        for field, asset in assets.items():
            if asset is not None:
                warnings[field] = asset_warnings(asset, mode=chosen_mode(quote.task))
        for key, message in quote.problems.items():
            problems.setdefault(problem_path(key), message)
        body = {
            "valid": not problems,
            "problems": problems,
            # The price depends on the video and the parameters only, so it is shown even while, say,
            # the image is still missing.
            "estimate": quote.estimate,
            "currency": CURRENCY,
            "tier": quote.tier,
            "billable_seconds": quote.billable_seconds,
            "number_results": quote.number_results,
            "warnings": warnings,
            "budget": self._headroom(quote.estimate if not problems else None),
            "eta": self._eta(quote.task, assets["video"]),
        }
        return Response(QuoteSerializer(body).data)

    def _eta(self, task: dict[str, Any], video: Asset | None) -> dict[str, Any] | None:
        if video is None or not task:
            return None
        try:
            return eta_for_task(team_id=self.member.team_id, task=task, duration=video.duration)
        except ValueError:
            return None  # choices that build no task have no ETA; their problems say why

    def _headroom(self, amount: Any) -> dict[str, Any] | None:
        if not self.member.can_spend:
            return None
        headroom = budget_headroom(membership=self.member, amount=amount)
        return headroom.as_dict() if headroom is not None else None


# --- generations ---------------------------------------------------------------------------------


class GenerationListApi(ApiView):
    permission_classes = [*ApiView.permission_classes, CanSpend]

    class GenerationFilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Generation.Status.choices, required=False)
        mine = serializers.BooleanField(required=False, help_text="1 for only your own generations.")

    class GenerationInputSerializer(serializers.Serializer):
        image = object_id(help_text="Character image asset id.")
        video = object_id(help_text="Driving video asset id.")
        parameters = ParametersField()
        parent = object_id(
            required=False, allow_null=True, help_text="The generation this re-runs (lineage)."
        )
        board = object_id(
            required=False, allow_null=True, help_text="A board of your team that receives every result."
        )

    @extend_schema(
        operation_id="generations_list",
        tags=["generations"],
        summary="The team's generations, newest first, with their outputs",
        parameters=[GenerationFilterSerializer, *PAGE_PARAMETERS],
        responses={200: GenerationPageSerializer, **errors(400, 401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        filters = self.GenerationFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        generations = generations_for(self.member)
        if wanted := filters.validated_data.get("status"):
            generations = generations.filter(status=wanted)
        if filters.validated_data.get("mine"):
            generations = generations.filter(created_by=request.user)
        return self.paginate(
            generations, lambda generation: GenerationSerializer(generation_data(request, generation)).data
        )

    @extend_schema(
        operation_id="generations_create",
        tags=["generations"],
        summary="Submit a generation (spends money)",
        description="Validated against the spec and priced; the estimate is saved with the generation "
        "and reserved against the team's monthly budget and the member's cap in the same transaction, "
        "and the task is sent to Runware after the commit. A run that would pass a cap is refused with "
        "400 and `errors.budget` (what remains and when the period resets) before anything is sent. The "
        "actual charge is recorded from Runware's cost for each result (`actual_cost`), releasing the "
        "reservation. Reviewers get 403.",
        request=GenerationInputSerializer,
        responses={201: GenerationSerializer, **errors(400, 401, 403)},
        examples=[REQUEST_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        payload = self.GenerationInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        parent = None
        if data.get("parent") is not None:
            parent = generations_for(self.member).filter(pk=data["parent"]).first()
            if parent is None:
                raise exceptions.ValidationError({"parent": ["No such generation in your team."]})
        board = None
        if data.get("board") is not None:
            board = Board.objects.filter(team_id=self.member.team_id, pk=data["board"]).first()
            if board is None:
                raise exceptions.ValidationError({"board": ["No such board in your team."]})
        try:
            generation = generation_create(
                membership=self.member,
                # Another team's id is handed over as "no asset", which the service names as a problem.
                image=self.team_asset(data["image"]),
                video=self.team_asset(data["video"]),
                choices=data["parameters"],
                parent=parent,
                board=board,
                ip=client_ip(request.META),
            )
        except GenerationRejected as exc:
            raise exceptions.ValidationError(
                {problem_path(key): [message] for key, message in exc.problems.items()}
            ) from None
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        generation = generations_for(self.member).get(pk=generation.pk)
        return Response(GenerationSerializer(generation_data(request, generation)).data, status=201)


class GenerationDetailApi(ApiView):
    @extend_schema(
        operation_id="generations_retrieve",
        tags=["generations"],
        summary="One generation of the team, with its outputs",
        responses={200: GenerationSerializer, **errors(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        generation = generations_for(self.member).filter(pk=pk).first()
        if generation is None:
            raise exceptions.NotFound("No such generation in your team.")
        return Response(GenerationSerializer(generation_data(request, generation)).data)


# --- what is done to a run after submitting it ------------------------------------------------------


def _run_action(view: ApiView, request: Request, action: Any, **kwargs: Any) -> Response:
    try:
        generation = action(membership=view.member, **kwargs)
    except runs.RunNotFound:
        raise exceptions.NotFound("No such generation in your team.") from None
    except NotAllowed as exc:
        raise exceptions.PermissionDenied(str(exc)) from None
    except runs.RunActionRefused as exc:
        raise exceptions.ValidationError({"generation": [str(exc)]}) from None
    generation = generations_for(view.member).get(pk=generation.pk)
    return Response(GenerationSerializer(generation_data(request, generation)).data)


class GenerationCheckApi(ApiView):
    @extend_schema(
        operation_id="generations_check",
        tags=["generations"],
        summary="Check now: ask Runware for the run's state at once (admins)",
        description="Polls getResponse immediately and applies what it says through the same ingestion "
        "as webhooks, also for an ended run (a late result is stored and charged). Audited. 400 naming "
        "`generation` for a run not sent yet.",
        request=None,
        responses={200: GenerationSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        return _run_action(
            self, request, runs.generation_check_now, generation_id=pk, ip=client_ip(request.META)
        )


class GenerationStopWaitingApi(ApiView):
    @extend_schema(
        operation_id="generations_stop_waiting",
        tags=["generations"],
        summary="Stop waiting: end a run in flight as failed (admins)",
        description='The run fails with "Stopped waiting by <admin>" and its budget reservation is '
        "released. Runware has no cancel: the charge may still come, and a result that arrives later is "
        "still stored and charged. Audited. 400 naming `generation` for a run that already ended.",
        request=None,
        responses={200: GenerationSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        return _run_action(
            self, request, runs.generation_stop_waiting, generation_id=pk, ip=client_ip(request.META)
        )


class GenerationDismissApi(ApiView):
    @extend_schema(
        operation_id="generations_dismiss",
        tags=["generations"],
        summary='Dismiss one of your ended runs from "Your runs"',
        description="Only the run's creator, only once it is done or failed (else 400 naming "
        "`generation`). It stays in the generations list, the gallery and the API (`dismissed: true`).",
        request=None,
        responses={200: GenerationSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        return _run_action(self, request, runs.generation_dismiss, generation_id=pk)
