"""The REST API: thin views over the services, one ``APIView`` per URL with its own input serializers.

Every object belongs to a team and is looked up through the caller's membership, so another team's
asset or generation is answered 404 exactly like an id that does not exist. Every 4xx body has one shape,
``{"errors": {"<field or parameter path>": ["message", ...]}}``; problems about the request as a whole
(authentication, permission, not found) are under ``"detail"``.

Who may do what: any member (reviewers included) may read, upload assets and ask for a quote, because
none of that spends money; only members who can spend (admins and members) may create generations.
"""

import mimetypes
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db.models import Prefetch, QuerySet
from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from animate.models import Asset, Generation, Membership, Output
from animate.serializers import (
    AssetPageSerializer,
    AssetSerializer,
    ErrorsSerializer,
    GenerationPageSerializer,
    GenerationSerializer,
    QuoteSerializer,
)
from animate.services.generations import (
    SERVER_KEYS,
    GenerationRejected,
    generation_create,
    generation_quote,
)
from animate.services.media import MediaRejected, asset_create, asset_summary, asset_warnings
from animate.services.teams import NotAllowed, membership_for
from animate.uploads import MULTIPART_ALLOWANCE, UploadRefusal, file_limits, request_upload_refusal

CURRENCY = "USD"
# Keys of a service's problems that are request fields; any other key is a spec parameter path.
REQUEST_FIELDS = frozenset({"image", "video", "parent", "parameters"})
NOT_IN_TEAM = {
    Asset.Kind.IMAGE: "Choose a character image uploaded to your team.",
    Asset.Kind.VIDEO: "Choose a driving video uploaded to your team.",
}


# --- errors --------------------------------------------------------------------------------------


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with every error body reshaped to ``{"errors": {path: [messages]}}``.

    Usable project-wide as ``REST_FRAMEWORK["EXCEPTION_HANDLER"] = "animate.api.api_exception_handler"``;
    the views below use it in any case (``ApiView.get_exception_handler``).
    """
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = {"errors": error_paths(response.data)}
    return response


def error_paths(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested error details to dotted paths: ``{"parameters": {"fps": [..]}}`` becomes
    ``{"parameters.fps": [..]}`` and list items become ``lora[0].weight``, the spec's own notation."""
    if isinstance(data, dict):
        flat: dict[str, list[str]] = {}
        for key, value in data.items():
            key = str(key)
            if not prefix:
                path = key
            elif key.isdigit():
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}"
            for inner, messages in error_paths(value, path).items():
                flat.setdefault(inner, []).extend(messages)
        return flat
    if isinstance(data, list):
        if any(isinstance(item, dict | list) for item in data):
            flat = {}
            for index, item in enumerate(data):
                if item:
                    flat.update(error_paths(item, f"{prefix}[{index}]"))
            return flat
        return {prefix or api_settings.NON_FIELD_ERRORS_KEY: [str(item) for item in data]}
    return {prefix or "detail": [str(data)]}


def problem_path(key: str) -> str:
    """Where a service's problem belongs in the request: a field, or ``parameters.<spec path>``."""
    return key if key in REQUEST_FIELDS else f"parameters.{key}"


ERROR_RESPONSES = {
    400: OpenApiResponse(ErrorsSerializer, description="Invalid input; each message names its field."),
    401: OpenApiResponse(ErrorsSerializer, description="No or invalid credentials."),
    403: OpenApiResponse(ErrorsSerializer, description="Not a team member, or not allowed to spend."),
    404: OpenApiResponse(ErrorsSerializer, description="No such object in your team."),
    411: OpenApiResponse(ErrorsSerializer, description="The upload was sent without a Content-Length."),
    413: OpenApiResponse(
        ErrorsSerializer, description="The upload is larger than allowed; refused before it is read."
    ),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: ERROR_RESPONSES[code] for code in codes}


# --- plumbing shared by every view ----------------------------------------------------------------


class IsTeamMember(BasePermission):
    message = "You are not a member of any team."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(view, ApiView) and view.membership is not None


class CanSpend(BasePermission):
    message = "Reviewers cannot submit generations; ask a team admin for the member role."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method not in {"POST", "PUT", "PATCH", "DELETE"}:
            return True
        return isinstance(view, ApiView) and view.membership is not None and view.membership.can_spend


class ApiPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("page_size", int, description="Items per page (default 20, at most 100)."),
]


class ApiView(APIView):
    parser_classes = [JSONParser]
    # Token first, so an anonymous API client is told 401 with ``WWW-Authenticate: Token`` instead of
    # the bare 403 DRF gives when the first authenticator (session) has no challenge to offer.
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, IsTeamMember]
    membership: Membership | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.membership = None
        super().initial(request, *args, **kwargs)

    def check_permissions(self, request: Request) -> None:
        # Looked up once per request, after authentication and before the permission classes read it.
        if request.user.is_authenticated:
            self.membership = membership_for(request.user)
        super().check_permissions(request)

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return api_exception_handler

    @property
    def member(self) -> Membership:
        assert self.membership is not None  # IsTeamMember has let the request in
        return self.membership

    def team_asset(self, pk: int | None, kind: str | None = None) -> Asset | None:
        if pk is None:
            return None
        assets = Asset.objects.filter(team_id=self.member.team_id, pk=pk)
        if kind is not None:
            assets = assets.filter(kind=kind)
        return assets.first()

    def paginate(self, items: QuerySet[Any], render: Callable[[Any], Any]) -> Response:
        paginator = ApiPagination()
        page = paginator.paginate_queryset(items, self.request, view=self)
        return paginator.get_paginated_response([render(item) for item in page or []])


def _url(request: Request, name: str, pk: int) -> str:
    return request.build_absolute_uri(reverse(name, args=[pk]))


def asset_data(request: Request, asset: Asset) -> dict[str, Any]:
    summary = asset_summary(asset)
    return {
        **summary,
        "url": request.build_absolute_uri(summary["url"]),
        "poster": request.build_absolute_uri(summary["poster"]) if summary["poster"] else None,
        "sha256": asset.sha256,
        "created_at": asset.created_at,
    }


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
        "url": _url(request, "media-output", output.pk),
        "poster": _url(request, "media-output-poster", output.pk) if output.poster else None,
        "created_at": output.created_at,
    }


def generation_data(request: Request, generation: Generation) -> dict[str, Any]:
    failed = bool(generation.error_code or generation.error_message)
    return {
        "id": generation.pk,
        "status": generation.status,
        "status_label": Generation.Status(generation.status).label,
        "task_uuid": generation.task_uuid,
        "image": generation.image_id,
        "video": generation.video_id,
        "parent": generation.parent_id,
        "created_by": generation.created_by.get_username() if generation.created_by else None,
        "parameters": generation.parameters,
        "number_results": generation.number_results,
        "estimated_cost": generation.estimated_cost,
        "actual_cost": generation.actual_cost,
        "currency": CURRENCY,
        "error": {"code": generation.error_code, "message": generation.error_message} if failed else None,
        "timestamps": {
            "created": generation.created_at,
            "submitted": generation.submitted_at,
            "processing": generation.processing_at,
            "completed": generation.completed_at,
            "updated": generation.updated_at,
        },
        # Read from the prefetch cache (``generations_for``), so a page costs the same queries at any size.
        "outputs": [output_data(request, output) for output in generation.outputs.all()],
    }


def generations_for(membership: Membership) -> QuerySet[Generation]:
    return (
        Generation.objects.filter(team_id=membership.team_id)
        .select_related("created_by")
        .prefetch_related(Prefetch("outputs", queryset=Output.objects.order_by("created_at", "id")))
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


# --- assets --------------------------------------------------------------------------------------


def _limits_text() -> str:
    limits = file_limits()
    return f"{limits['image'] // 2**20} MiB (images) and {limits['video'] // 2**20} MiB (videos)"


def upload_kinds(uploaded: UploadedFile, kind: str | None) -> tuple[list[str], bool]:
    """Which kinds to try an upload as, and whether the client said (or the name tells) which it is.

    The kind asked for is the only one tried. Otherwise the declared type, else the file name, orders
    the attempts; what the file *is* is decided by its content, so the other kind is tried as well.
    """
    if kind:
        return [kind], True
    declared = (uploaded.content_type or "").split(";")[0].strip().lower()
    if not declared.startswith(("image/", "video/")):
        declared = mimetypes.guess_type(uploaded.name or "")[0] or ""
    if declared.startswith("video/"):
        return [Asset.Kind.VIDEO, Asset.Kind.IMAGE], True
    return [Asset.Kind.IMAGE, Asset.Kind.VIDEO], declared.startswith("image/")


class UploadRefused(exceptions.APIException):
    """413/411/400 for an upload refused from its headers; shaped like any other error of ``file``."""

    def __init__(self, refusal: UploadRefusal) -> None:
        self.status_code = refusal.status
        super().__init__({"file": [refusal.message]})


def refuse_oversized_upload(request: Request) -> None:
    """Raise ``UploadRefused`` when an upload's headers already show it must be refused."""
    if request.method == "POST" and (refusal := request_upload_refusal(request)) is not None:
        raise UploadRefused(refusal)


class AssetListApi(ApiView):
    parser_classes = [MultiPartParser, FormParser]

    @staticmethod
    def upload_refusal_response(refusal: UploadRefusal) -> JsonResponse:
        """The ASGI guard's answer (``animate.uploads.UploadLimitMiddleware``), same shape as below."""
        return JsonResponse({"errors": {"file": [refusal.message]}}, status=refusal.status)

    def perform_authentication(self, request: Request) -> None:
        # Session authentication checks CSRF, which parses the whole body: for a logged-in browser
        # session the size check must come first. Token authentication reads no body, so anyone else is
        # authenticated first (an anonymous client is still told 401) and checked in ``initial``.
        session_user = getattr(request._request, "user", None)
        if session_user is not None and session_user.is_authenticated:
            refuse_oversized_upload(request)
        super().perform_authentication(request)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        refuse_oversized_upload(request)  # before ``request.data`` is parsed in ``post``

    class UploadInputSerializer(serializers.Serializer):
        file = serializers.FileField(help_text="A PNG/JPEG/WebP character image or an MP4/MOV/WebM video.")
        kind = serializers.ChoiceField(
            choices=Asset.Kind.choices,
            required=False,
            help_text="Omit to let the content decide (tried as the declared type first).",
        )

    class AssetFilterSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=Asset.Kind.choices, required=False)

    class UploadQuerySerializer(serializers.Serializer):
        kind = serializers.ChoiceField(
            choices=Asset.Kind.choices,
            required=False,
            help_text="The kind, named before the body is read: an upload larger than that kind's limit is "
            "refused with 413 at once (without it, the larger limit applies). Used as the kind when the "
            "form has none.",
        )

    @extend_schema(
        operation_id="assets_list",
        tags=["assets"],
        summary="List the team's assets, newest first",
        parameters=[AssetFilterSerializer, *PAGE_PARAMETERS],
        responses={200: AssetPageSerializer, **errors(400, 401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        filters = self.AssetFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        assets = Asset.objects.filter(team_id=self.member.team_id).order_by("-created_at", "-id")
        if kind := filters.validated_data.get("kind"):
            assets = assets.filter(kind=kind)
        return self.paginate(assets, lambda asset: AssetSerializer(asset_data(request, asset)).data)

    @extend_schema(
        operation_id="assets_upload",
        tags=["assets"],
        summary="Upload a character image or driving video",
        description="The same bytes uploaded again in the team answer 200 with the existing asset. "
        "Reviewers may upload too: storing an input spends nothing. Files up to "
        f"{_limits_text()} are accepted; a request whose Content-Length is larger (plus "
        f"{MULTIPART_ALLOWANCE // 1024} KiB for the multipart framing) is refused with 413 before its "
        "body is read, and one without a Content-Length with 411.",
        parameters=[UploadQuerySerializer],
        request={"multipart/form-data": UploadInputSerializer},
        responses={
            201: OpenApiResponse(AssetSerializer, description="Stored."),
            200: OpenApiResponse(AssetSerializer, description="Already uploaded; the existing asset."),
            **errors(400, 401, 403, 411, 413),
        },
    )
    def post(self, request: Request) -> Response:
        query = self.UploadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        payload = self.UploadInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        uploaded = payload.validated_data["file"]
        started = timezone.now()
        rejections: list[str] = []
        asset = None
        kind = payload.validated_data.get("kind") or query.validated_data.get("kind")
        kinds, hinted = upload_kinds(uploaded, kind)
        for kind in kinds:
            uploaded.seek(0)
            try:
                asset = asset_create(
                    team=self.member.team, user=request.user, kind=kind, uploaded_file=uploaded
                )
                break
            except MediaRejected as exc:
                rejections.append(exc.message)
        if asset is None:
            # With a declared kind, its verdict is the useful one; without, say why it is neither.
            raise exceptions.ValidationError({"file": rejections[:1] if hinted else rejections})
        # asset_create hands back the team's existing asset for bytes it has seen before; a row older
        # than this request is such a reuse.
        reused = asset.created_at < started
        body = AssetSerializer(asset_data(request, asset)).data
        return Response(body, status=status.HTTP_200_OK if reused else status.HTTP_201_CREATED)


class AssetDetailApi(ApiView):
    @extend_schema(
        operation_id="assets_retrieve",
        tags=["assets"],
        summary="One asset of the team",
        responses={200: AssetSerializer, **errors(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        asset = self.team_asset(pk)
        if asset is None:
            raise exceptions.NotFound("No such asset in your team.")
        return Response(AssetSerializer(asset_data(request, asset)).data)


# --- quotes --------------------------------------------------------------------------------------


class QuoteApi(ApiView):
    class QuoteInputSerializer(serializers.Serializer):
        image = serializers.IntegerField(
            required=False, allow_null=True, help_text="Character image asset id."
        )
        video = serializers.IntegerField(
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
        }
        return Response(QuoteSerializer(body).data)


# --- generations ---------------------------------------------------------------------------------


class GenerationListApi(ApiView):
    permission_classes = [*ApiView.permission_classes, CanSpend]

    class GenerationFilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Generation.Status.choices, required=False)
        mine = serializers.BooleanField(required=False, help_text="1 for only your own generations.")

    class GenerationInputSerializer(serializers.Serializer):
        image = serializers.IntegerField(help_text="Character image asset id.")
        video = serializers.IntegerField(help_text="Driving video asset id.")
        parameters = ParametersField()
        parent = serializers.IntegerField(
            required=False, allow_null=True, help_text="The generation this re-runs (lineage)."
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
        "and the task is sent to Runware after the commit. The actual charge is recorded from Runware's "
        "cost for each result (`actual_cost`). Reviewers get 403.",
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
        try:
            generation = generation_create(
                membership=self.member,
                # Another team's id is handed over as "no asset", which the service names as a problem.
                image=self.team_asset(data["image"]),
                video=self.team_asset(data["video"]),
                choices=data["parameters"],
                parent=parent,
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
