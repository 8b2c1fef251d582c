"""Quotes and generations: price choices, submit, list and read runs with their outputs."""

import hashlib
import json
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
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
    ConflictSerializer,
    GenerationPageSerializer,
    GenerationSerializer,
    QuoteSerializer,
)
from animate.models import Asset, Board, Generation, Membership, Output, Preset
from animate.runware import pricing, spec
from animate.services import runs
from animate.services.audit import client_ip
from animate.services.budgets import budget_headroom
from animate.services.eta import eta_for_task
from animate.services.generations import (
    SERVER_KEYS,
    DuplicateJob,
    GenerationRejected,
    IdempotencyKeyReused,
    Quote,
    charge_flag,
    charged_unstored,
    generation_create,
    generation_create_once,
    generation_quote,
    identical_earlier,
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
        "audio": output.audio,
        "audio_note": output.audio_note,
        "original": (
            {
                "url": absolute_url(request, "media-output-original", output.pk),
                "sha256": output.original_sha256,
                "size": output.original_size,
            }
            if output.original_file
            else None
        ),
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
        "keep_audio": generation.keep_audio,
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


IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = 255
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="A key of your choosing (e.g. a UUID per draft): the same key again in the team answers "
    "the generation the first request made instead of creating a second one.",
)


def request_fingerprint(data: dict[str, Any]) -> str:
    """The hash of what a submit asked for, to tell a repeat of a key from a different request under it.
    ``confirm_duplicate`` is left out: confirming is the same request said again."""
    asked = {key: value for key, value in data.items() if key != "confirm_duplicate"}
    return hashlib.sha256(json.dumps(asked, sort_keys=True, default=str).encode()).hexdigest()


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


def labelled(path: str, message: str) -> str:
    """A spec problem as people read it: "Frames per second: must be an integer from 4 to 60." for
    ``fps`` (the form's label first; the path stays the key of the error)."""
    try:
        label = spec.parameter(path).label
    except KeyError:
        return message
    if message.startswith(label):
        return message
    rest = message[len(path) :].lstrip(": ") if message.startswith(path) else message
    return f"{label}: {rest}"


def problem_entries(problems: dict[str, str]) -> dict[str, str]:
    """A service's problems keyed by request path, each message named by its label."""
    return {problem_path(key): labelled(key, message) for key, message in problems.items()}


def breakdown(quote: Quote) -> str:
    """ "3 s x $0.010 x 2 results" (with the page's multiplication sign) for an exact price; the range's
    two ends otherwise."""
    if quote.estimate is None or quote.billable_seconds is None:
        return ""
    results = quote.number_results
    count = f"{results} result{'' if results == 1 else 's'}"
    if quote.tier is None:
        low = pricing.PRICE_PER_SECOND[pricing.RENDER_TIERS[0]]
        high = pricing.PRICE_PER_SECOND[pricing.RENDER_TIERS[-1]]
        return f"{quote.billable_seconds} s × ${low}–${high} × {count}"
    return f"{quote.billable_seconds} s × ${pricing.PRICE_PER_SECOND[quote.tier]} × {count}"


def suggested_size(image: Asset | None, video: Asset | None) -> dict[str, Any] | None:
    """The explicit size the page defaults to: the table row closest to the driving video's aspect
    ratio (else the character image's), said in words."""
    source, noun = (video, "video") if video is not None and video.width else (image, "image")
    if source is None or not source.width or not source.height:
        return None
    width, height = pricing.suggested_size(source.width, source.height)
    ratio = pricing.ratio_name(source.width, source.height)
    return {
        "value": f"{width}x{height}",
        "width": width,
        "height": height,
        "tier": pricing.tier_for_size(width, height),
        "text": f"{width}×{height} — closest to your {noun}'s {ratio}",
    }


def earlier_data(generation: Generation) -> dict[str, Any]:
    """The earlier identical run, as the conflict and the quote name it."""
    cost = generation.actual_cost if generation.actual_cost is not None else generation.estimated_cost
    return {
        "id": generation.pk,
        "url": reverse("generation-detail", kwargs={"pk": generation.pk}),
        "status": generation.status,
        "cost": cost,
        "currency": CURRENCY,
        "created_at": generation.created_at,
    }


# --- quotes --------------------------------------------------------------------------------------


class QuoteApi(ApiView):
    class QuoteInputSerializer(serializers.Serializer):
        image = object_id(required=False, allow_null=True, help_text="Character image asset id.")
        video = object_id(
            required=False, allow_null=True, help_text="Driving video asset id; needed for a price."
        )
        parameters = ParametersField()
        keep_audio = serializers.BooleanField(
            required=False,
            allow_null=True,
            default=None,
            help_text="As on submit (null: on): off, the driving video's warnings say that its sound will "
            "not reach the results.",
        )

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
                warnings[field] = asset_warnings(
                    asset, mode=chosen_mode(quote.task), keep_audio=data["keep_audio"] is not False
                )
        for key, message in problem_entries(quote.problems).items():
            problems.setdefault(key, message)
        earlier = None
        if not problems and assets["image"] is not None and assets["video"] is not None:
            earlier = identical_earlier(
                team_id=self.member.team_id,
                image=assets["image"],
                video=assets["video"],
                choices=data["parameters"],
            )
        body = {
            "valid": not problems,
            "problems": problems,
            # The price depends on the video and the parameters only, so it is shown even while, say,
            # the image is still missing.
            "estimate": quote.estimate,
            "estimate_min": quote.estimate_min,
            "estimate_max": quote.estimate,
            "exact": quote.exact,
            "price_note": None if quote.exact else pricing.RANGE_REASON,
            "breakdown": breakdown(quote),
            "currency": CURRENCY,
            "tier": quote.tier,
            "billable_seconds": quote.billable_seconds,
            "number_results": quote.number_results,
            "suggested_size": suggested_size(assets["image"], assets["video"]),
            "duplicate": earlier_data(earlier) if earlier is not None else None,
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
        preset = object_id(
            required=False,
            allow_null=True,
            help_text="The team preset the settings came from (recorded for "
            "its average cost and approval rate; the settings sent are the ones used).",
        )
        confirm_duplicate = serializers.BooleanField(
            required=False,
            default=False,
            help_text="Run it even though the team already ran the same job (same input files, parameters "
            "and explicit seed). Without it such a submit is answered 409 naming the earlier run.",
        )
        keep_audio = serializers.BooleanField(
            required=False,
            allow_null=True,
            default=None,
            help_text="Keep the driving video's audio: each result gets the driving video's sound track "
            "(the model's output is silent), its video stream copied unchanged; Runware's file is kept "
            "too (`outputs[].original`). Default: on when the driving video has audio; ignored when it "
            "has none.",
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
        "reservation. Reviewers get 403.\n\n"
        "**Idempotency:** send an `Idempotency-Key` header (any string up to 255 characters, e.g. a "
        "UUID per draft) and a repeat of the request with the same key in the same team answers 200 with "
        "the generation the first one made, never a second Runware task, even when the two race. The same "
        "key with a different body is a 422 naming the header.\n\n"
        "**Identical jobs:** a job with the same input files, parameters and explicit seed as an earlier "
        "run of the team (not failed) is answered 409 with `earlier` (its id, link and cost) unless "
        "`confirm_duplicate` is true.",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=GenerationInputSerializer,
        responses={
            201: GenerationSerializer,
            200: OpenApiResponse(GenerationSerializer, description="A repeat of an `Idempotency-Key`."),
            409: OpenApiResponse(ConflictSerializer, description="Identical to an earlier run of the team."),
            422: OpenApiResponse(
                ConflictSerializer, description="The Idempotency-Key was used for another body."
            ),
            **errors(400, 401, 403),
        },
        examples=[REQUEST_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        if len(key) > IDEMPOTENCY_KEY_MAX:
            raise exceptions.ValidationError(
                {IDEMPOTENCY_HEADER: [f"At most {IDEMPOTENCY_KEY_MAX} characters; a UUID is enough."]}
            )
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
        preset = None
        if data.get("preset") is not None:
            preset = Preset.objects.filter(team_id=self.member.team_id, pk=data["preset"]).first()
            if preset is None:
                raise exceptions.ValidationError({"preset": ["No such preset in your team."]})
        fields: dict[str, Any] = {
            # Another team's id is handed over as "no asset", which the service names as a problem.
            "image": self.team_asset(data["image"]),
            "video": self.team_asset(data["video"]),
            "choices": data["parameters"],
            "parent": parent,
            "board": board,
            "preset": preset,
            "confirm_duplicate": data["confirm_duplicate"],
            "ip": client_ip(request.META),
            "keep_audio": data.get("keep_audio"),
        }
        replayed = False
        try:
            if key:
                generation, replayed = generation_create_once(
                    membership=self.member,
                    idempotency_key=key,
                    request_fingerprint=request_fingerprint(data),
                    **fields,
                )
            else:
                generation = generation_create(membership=self.member, **fields)
        except GenerationRejected as exc:
            raise exceptions.ValidationError(
                {key: [message] for key, message in problem_entries(exc.problems).items()}
            ) from None
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        except IdempotencyKeyReused as exc:
            message = (
                f"This key was already used for generation #{exc.generation.pk} with a different request; "
                "send a new key for a new request."
            )
            return Response({"errors": {IDEMPOTENCY_HEADER: [message]}}, status=422)
        except DuplicateJob as exc:
            earlier = earlier_data(exc.earlier)
            cost = f"${earlier['cost']}"
            message = (
                f"The team already ran this exact job (same inputs, settings and seed): generation "
                f"#{earlier['id']} ({earlier['url']}), which cost {cost}. Send confirm_duplicate: true "
                "to pay for it again."
            )
            return Response(
                ConflictSerializer({"errors": {"confirm_duplicate": [message]}, "earlier": earlier}).data,
                status=status.HTTP_409_CONFLICT,
            )
        generation = generations_for(self.member).get(pk=generation.pk)
        body = GenerationSerializer(generation_data(request, generation)).data
        return Response(body, status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED)


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
