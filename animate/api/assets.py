"""Assets: upload a character image or a driving video, list and read them."""

import mimetypes
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from animate.api.base import PAGE_PARAMETERS, ApiView, errors
from animate.api.serializers import (
    AssetPageSerializer,
    AssetSerializer,
)
from animate.models import Asset
from animate.services.media import MediaRejected, asset_store, asset_summary, upload_content_kind
from animate.uploads import MULTIPART_ALLOWANCE, UploadRefusal, file_limits, request_upload_refusal


def asset_data(request: Request, asset: Asset, *, reused: bool = False) -> dict[str, Any]:
    summary = asset_summary(asset)
    return {
        **summary,
        "reused": reused,
        "url": request.build_absolute_uri(summary["url"]),
        "poster": request.build_absolute_uri(summary["poster"]) if summary["poster"] else None,
        "sha256": asset.sha256,
        "created_at": asset.created_at,
    }


# --- assets --------------------------------------------------------------------------------------


def _limits_text() -> str:
    limits = file_limits()
    return f"{limits['image'] // 2**20} MiB (images) and {limits['video'] // 2**20} MiB (videos)"


def _named_kind(uploaded: UploadedFile) -> str | None:
    """The kind the file's name (else its declared type) says it is, if either says."""
    named = mimetypes.guess_type(uploaded.name or "")[0] or ""
    if not named.startswith(("image/", "video/")):
        named = (uploaded.content_type or "").split(";")[0].strip().lower()
    if named.startswith("image/"):
        return Asset.Kind.IMAGE
    if named.startswith("video/"):
        return Asset.Kind.VIDEO
    return None


KIND_NOUNS = {Asset.Kind.IMAGE: "an image", Asset.Kind.VIDEO: "a video"}


def upload_kinds(uploaded: UploadedFile, kind: str | None) -> tuple[list[str], str | None]:
    """Which kinds to try an upload as, and the kind its name says. The kind asked for, else the one the
    name says, is the only one tried; a name that says nothing leaves it to the content."""
    if kind:
        return [kind], None
    named = _named_kind(uploaded)
    if named is not None:
        return [named], named
    return [Asset.Kind.IMAGE, Asset.Kind.VIDEO], None


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
        rejections: list[str] = []
        stored = None
        requested = payload.validated_data.get("kind") or query.validated_data.get("kind")
        kinds, named = upload_kinds(uploaded, requested)
        for kind in kinds:
            uploaded.seek(0)
            try:
                stored = asset_store(
                    team=self.member.team, user=request.user, kind=kind, uploaded_file=uploaded
                )
                break
            except MediaRejected as exc:
                rejections.append(exc.message)
        if stored is None and named is not None:
            uploaded.seek(0)
            actual = upload_content_kind(uploaded)
            if actual is not None and actual != named:
                # Unasked, a file whose name and content disagree is refused: one of the two is a mistake.
                rejections = [
                    f"The file is named like {KIND_NOUNS[named]} ({uploaded.name}) but holds "
                    f"{KIND_NOUNS[actual]}; rename it, or say which it is with kind."
                ]
        if stored is None:
            # With a requested or named kind, its verdict is the useful one; else say why it is neither.
            hinted = requested is not None or named is not None
            raise exceptions.ValidationError({"file": rejections[:1] if hinted else rejections})
        body = AssetSerializer(asset_data(request, stored.asset, reused=stored.reused)).data
        return Response(body, status=status.HTTP_200_OK if stored.reused else status.HTTP_201_CREATED)


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
