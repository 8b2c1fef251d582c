"""Reviewing one output over the API: verdicts (with history), time-pinned comments and stars."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from animate.api.base import ApiView, errors
from animate.api.outputs import review_errors, team_output
from animate.api.serializers import (
    CommentSerializer,
    ReviewSummarySerializer,
    StarSerializer,
    VerdictSerializer,
)
from animate.models import Comment, Output, Verdict
from animate.services import review
from animate.services.audit import client_ip
from animate.services.review import ReviewForbidden, ReviewRejected


def summary(output: Output) -> dict[str, Any]:
    event = review.verdict_event(output)
    return {
        "output": output.pk,
        "review_state": event["state"],
        "rating": event["rating"],
        "verdicts": event["verdicts"],
        "history": [review.verdict_data(verdict) for verdict in review.verdict_history(output)],
    }


class VerdictApi(ApiView):
    class VerdictInputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=Verdict.Decision.choices)
        reasons = serializers.ListField(
            child=serializers.ChoiceField(choices=Verdict.Reason.choices),
            required=False,
            default=list,
            max_length=len(Verdict.Reason.values),
            help_text="At least one for a rejection; none for an approval. `other` needs a note.",
        )
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=review.NOTE_MAX)
        rating = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=5)

    @extend_schema(
        operation_id="verdicts_list",
        tags=["review"],
        summary="Every reviewer's current verdict, the overall state and the history",
        responses={200: ReviewSummarySerializer, **errors(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ReviewSummarySerializer(summary(team_output(self, pk))).data)

    @extend_schema(
        operation_id="verdicts_create",
        tags=["review"],
        summary="Give or change your verdict (the old one stays in the history)",
        description="Admins, members and reviewers may all review.",
        request=VerdictInputSerializer,
        responses={201: VerdictSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        output = team_output(self, pk)
        payload = self.VerdictInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            verdict = review.verdict_set(
                membership=self.member, output=output, ip=client_ip(request.META), **payload.validated_data
            )
        except ReviewRejected as exc:
            raise review_errors(exc) from None
        return Response(VerdictSerializer(review.verdict_data(verdict)).data, status=201)


class CommentListApi(ApiView):
    class CommentInputSerializer(serializers.Serializer):
        at_seconds = serializers.FloatField(min_value=0, help_text="Where in the result to pin it.")
        body = serializers.CharField(max_length=review.COMMENT_MAX)

    @extend_schema(
        operation_id="comments_list",
        tags=["review"],
        summary="The output's comments, in video time order",
        responses={200: CommentSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        output = team_output(self, pk)
        return Response(
            CommentSerializer([review.comment_data(c) for c in review.comments_for(output)], many=True).data
        )

    @extend_schema(
        operation_id="comments_create",
        tags=["review"],
        summary="Comment at a time in the video",
        request=CommentInputSerializer,
        responses={201: CommentSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        output = team_output(self, pk)
        payload = self.CommentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            comment = review.comment_add(
                membership=self.member, output=output, ip=client_ip(request.META), **payload.validated_data
            )
        except ReviewRejected as exc:
            raise review_errors(exc) from None
        return Response(CommentSerializer(review.comment_data(comment)).data, status=201)


class CommentDetailApi(ApiView):
    class CommentEditSerializer(serializers.Serializer):
        body = serializers.CharField(max_length=review.COMMENT_MAX)

    def _comment(self, pk: int) -> Comment:
        comment = (
            Comment.objects.select_related("author", "output")
            .filter(pk=pk, team_id=self.member.team_id)
            .first()
        )
        if comment is None:
            raise exceptions.NotFound("No such comment in your team.")
        return comment

    @extend_schema(
        operation_id="comments_update",
        tags=["review"],
        summary="Edit your own comment",
        request=CommentEditSerializer,
        responses={200: CommentSerializer, **errors(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        comment = self._comment(pk)
        payload = self.CommentEditSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            comment = review.comment_edit(
                membership=self.member,
                comment=comment,
                body=payload.validated_data["body"],
                ip=client_ip(request.META),
            )
        except (ReviewRejected, ReviewForbidden) as exc:
            raise review_errors(exc) from None
        return Response(CommentSerializer(review.comment_data(comment)).data)

    @extend_schema(
        operation_id="comments_destroy",
        tags=["review"],
        summary="Delete your own comment",
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        comment = self._comment(pk)
        try:
            review.comment_delete(membership=self.member, comment=comment, ip=client_ip(request.META))
        except (ReviewRejected, ReviewForbidden) as exc:
            raise review_errors(exc) from None
        return Response(status=204)


class StarApi(ApiView):
    def _set(self, request: Request, pk: int, starred: bool) -> Response:
        output = team_output(self, pk)
        review.star_set(membership=self.member, output=output, starred=starred)
        return Response(StarSerializer({"output": output.pk, "starred": starred}).data)

    @extend_schema(
        operation_id="star_set",
        tags=["review"],
        summary="Star the output (private to you)",
        request=None,
        responses={200: StarSerializer, **errors(401, 403, 404)},
    )
    def put(self, request: Request, pk: int) -> Response:
        return self._set(request, pk, True)

    @extend_schema(
        operation_id="star_clear",
        tags=["review"],
        summary="Remove your star",
        responses={200: StarSerializer, **errors(401, 403, 404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        return self._set(request, pk, False)
