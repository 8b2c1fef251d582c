"""Boards over the API: list, create, rename, delete, and add or remove outputs."""

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from animate.api.base import ApiView, errors
from animate.api.outputs import review_errors, team_output
from animate.api.serializers import BoardItemsSerializer, BoardSerializer
from animate.models import Board, BoardItem, Output
from animate.services import boards
from animate.services.review import ReviewForbidden, ReviewRejected


def board_data(board: Board) -> dict[str, Any]:
    return {
        "id": board.pk,
        "name": board.name,
        "item_count": board.item_count,  # type: ignore[attr-defined]  # annotated by boards_for
        "created_by": board.created_by.get_username() if board.created_by else None,
        "created_at": board.created_at,
        "page": reverse("board-detail", args=[board.pk]),
    }


class BoardInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=boards.NAME_MAX, help_text="Unique in the team (any case).")


def team_board(view: ApiView, pk: int) -> Board:
    board = boards.boards_for(view.member).select_related("created_by").filter(pk=pk).first()
    if board is None:
        raise exceptions.NotFound("No such board in your team.")
    return board


class BoardListApi(ApiView):
    @extend_schema(
        operation_id="boards_list",
        tags=["boards"],
        summary="The team's boards, by name",
        responses={200: BoardSerializer(many=True), **errors(401, 403)},
    )
    def get(self, request: Request) -> Response:
        items = boards.boards_for(self.member).select_related("created_by")
        return Response(BoardSerializer([board_data(board) for board in items], many=True).data)

    @extend_schema(
        operation_id="boards_create",
        tags=["boards"],
        summary="Create a board",
        request=BoardInputSerializer,
        responses={201: BoardSerializer, **errors(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        payload = BoardInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            board = boards.board_create(membership=self.member, name=payload.validated_data["name"])
        except ReviewRejected as exc:
            raise review_errors(exc) from None
        return Response(BoardSerializer(board_data(team_board(self, board.pk))).data, status=201)


class BoardDetailApi(ApiView):
    @extend_schema(
        operation_id="boards_retrieve",
        tags=["boards"],
        summary="One board (its outputs: `GET /api/outputs/?board=<id>`)",
        responses={200: BoardSerializer, **errors(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(BoardSerializer(board_data(team_board(self, pk))).data)

    @extend_schema(
        operation_id="boards_update",
        tags=["boards"],
        summary="Rename a board (its creator or an admin)",
        request=BoardInputSerializer,
        responses={200: BoardSerializer, **errors(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        board = team_board(self, pk)
        payload = BoardInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            boards.board_rename(membership=self.member, board=board, name=payload.validated_data["name"])
        except (ReviewRejected, ReviewForbidden) as exc:
            raise review_errors(exc) from None
        return Response(BoardSerializer(board_data(team_board(self, pk))).data)

    @extend_schema(
        operation_id="boards_destroy",
        tags=["boards"],
        summary="Delete a board (its creator or an admin); its outputs stay",
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        board = team_board(self, pk)
        try:
            boards.board_delete(membership=self.member, board=board)
        except (ReviewRejected, ReviewForbidden) as exc:
            raise review_errors(exc) from None
        return Response(status=204)


class BoardItemsApi(ApiView):
    class ItemsInputSerializer(serializers.Serializer):
        outputs = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=500)

    @extend_schema(
        operation_id="board_items_add",
        tags=["boards"],
        summary="Add outputs to a board (already there is fine)",
        request=ItemsInputSerializer,
        responses={200: BoardItemsSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        board = team_board(self, pk)
        payload = self.ItemsInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        wanted = set(payload.validated_data["outputs"])
        outputs = list(Output.objects.filter(team_id=self.member.team_id, pk__in=wanted))
        missing = wanted - {output.pk for output in outputs}
        if missing:
            raise exceptions.ValidationError(
                {"outputs": [f"No such output in your team: {', '.join(map(str, sorted(missing)))}."]}
            )
        added = boards.board_add(membership=self.member, board=board, outputs=outputs)
        count = BoardItem.objects.filter(board=board).count()
        return Response(BoardItemsSerializer({"board": board.pk, "added": added, "item_count": count}).data)


class BoardItemDetailApi(ApiView):
    @extend_schema(
        operation_id="board_items_remove",
        tags=["boards"],
        summary="Take an output off a board",
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request: Request, pk: int, output_pk: int) -> Response:
        board = team_board(self, pk)
        output = team_output(self, output_pk)
        if not boards.board_remove(membership=self.member, board=board, outputs=[output]):
            raise exceptions.NotFound("That output is not on this board.")
        return Response(status=204)
