"""Share links over the API: create one for an output or a board, list the live ones, revoke."""

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from animate.api.base import ApiView, errors
from animate.api.outputs import review_errors
from animate.api.serializers import NewShareLinkSerializer, ShareLinkSerializer
from animate.models import Board, Output, ShareLink
from animate.services import shares
from animate.services.audit import client_ip
from animate.services.review import ReviewForbidden, ReviewRejected


def share_data(share: ShareLink) -> dict[str, Any]:
    return {
        "id": share.pk,
        "output": share.output_id,
        "board": share.board_id,
        "label": shares.share_label(share),
        "created_by": share.created_by.get_username() if share.created_by else None,
        "created_at": share.created_at,
        "expires_at": share.expires_at,
        "revoked_at": share.revoked_at,
    }


class ShareListApi(ApiView):
    class ShareInputSerializer(serializers.Serializer):
        output = serializers.IntegerField(required=False, allow_null=True, help_text="An output to share.")
        board = serializers.IntegerField(required=False, allow_null=True, help_text="Or a board to share.")
        expires_in = serializers.ChoiceField(
            choices=[(key, label) for key, (_, label) in shares.LIFETIMES.items()],
            default=shares.DEFAULT_LIFETIME,
        )

    @extend_schema(
        operation_id="shares_list",
        tags=["shares"],
        summary="Live share links: all of the team's for admins, your own for everyone else",
        responses={200: ShareLinkSerializer(many=True), **errors(401, 403)},
    )
    def get(self, request: Request) -> Response:
        links = shares.shares_active(self.member)
        return Response(ShareLinkSerializer([share_data(share) for share in links], many=True).data)

    @extend_schema(
        operation_id="shares_create",
        tags=["shares"],
        summary="Create a read-only link to an output or a board, for people without an account",
        description="The answer's `url` is the only time the link is shown.",
        request=ShareInputSerializer,
        responses={201: NewShareLinkSerializer, **errors(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        payload = self.ShareInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        team_id = self.member.team_id
        output = board = None
        if data.get("output") is not None:
            output = Output.objects.filter(team_id=team_id, pk=data["output"]).first()
            if output is None:
                raise exceptions.ValidationError({"output": ["No such output in your team."]})
        if data.get("board") is not None:
            board = Board.objects.filter(team_id=team_id, pk=data["board"]).first()
            if board is None:
                raise exceptions.ValidationError({"board": ["No such board in your team."]})
        try:
            share, token = shares.share_create(
                membership=self.member,
                output=output,
                board=board,
                expires_in=data["expires_in"],
                ip=client_ip(request.META),
            )
        except ReviewRejected as exc:
            raise review_errors(exc) from None
        body = {**share_data(share), "url": request.build_absolute_uri(reverse("share", args=[token]))}
        return Response(NewShareLinkSerializer(body).data, status=201)


class ShareDetailApi(ApiView):
    @extend_schema(
        operation_id="shares_revoke",
        tags=["shares"],
        summary="Revoke a share link (its creator or an admin); it is 404 from then on",
        responses={200: ShareLinkSerializer, **errors(401, 403, 404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        share = (
            ShareLink.objects.filter(team_id=self.member.team_id, pk=pk).select_related("created_by").first()
        )
        if share is None:
            raise exceptions.NotFound("No such share link in your team.")
        try:
            share = shares.share_revoke(membership=self.member, share=share, ip=client_ip(request.META))
        except (ReviewRejected, ReviewForbidden) as exc:
            raise review_errors(exc) from None
        return Response(ShareLinkSerializer(share_data(share)).data)
