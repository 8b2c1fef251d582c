"""Boards: named, team-wide collections of outputs (a client delivery, a look, a shortlist).

Any member may create boards and add or remove outputs; renaming and deleting are for the board's
creator and admins. A board chosen at submit time receives each result of that generation as it is
stored (``board_autoadd``, called by ingestion in the same transaction).
"""

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from animate.models import Board, BoardItem, Membership, Output
from animate.services.review import ReviewForbidden, ReviewRejected

NAME_MAX = 80


def boards_for(membership: Membership) -> QuerySet[Board]:
    """The team's boards, by name, each with ``item_count``."""
    return (
        Board.objects.filter(team_id=membership.team_id)
        .annotate(item_count=Count("items"))
        .order_by("name", "pk")
    )


def _clean_name(membership: Membership, name: str, *, board: Board | None = None) -> str:
    clean = " ".join((name or "").split())
    if not clean:
        raise ReviewRejected({"name": "Give the board a name."})
    if len(clean) > NAME_MAX:
        raise ReviewRejected({"name": f"Keep the name under {NAME_MAX} characters."})
    taken = Board.objects.filter(team_id=membership.team_id, name__iexact=clean)
    if board is not None:
        taken = taken.exclude(pk=board.pk)
    if taken.exists():
        raise ReviewRejected({"name": f'Your team already has a board called "{clean}".'})
    return clean


def _in_team(membership: Membership, board: Board) -> None:
    if board.team_id != membership.team_id:
        raise ReviewRejected({"board": "No such board in your team."})


def _may_manage(membership: Membership, board: Board) -> None:
    _in_team(membership, board)
    if board.created_by_id != membership.user_id and membership.role != Membership.Role.ADMIN:
        raise ReviewForbidden("Only the board's creator or a team admin can rename or delete it.")


def board_create(*, membership: Membership, name: str) -> Board:
    clean = _clean_name(membership, name)
    try:
        with transaction.atomic():
            return Board.objects.create(team_id=membership.team_id, name=clean, created_by=membership.user)
    except IntegrityError:
        # Two people naming a board alike at the same moment: the unique constraint decides.
        raise ReviewRejected({"name": f'Your team already has a board called "{clean}".'}) from None


def board_rename(*, membership: Membership, board: Board, name: str) -> Board:
    _may_manage(membership, board)
    board.name = _clean_name(membership, name, board=board)
    try:
        with transaction.atomic():
            board.save(update_fields=["name", "updated_at"])
    except IntegrityError:
        raise ReviewRejected({"name": f'Your team already has a board called "{board.name}".'}) from None
    return board


def board_delete(*, membership: Membership, board: Board) -> None:
    """Delete the board and its items (never the outputs); its share links stop working."""
    _may_manage(membership, board)
    board.delete()


def _team_outputs(membership: Membership, outputs: Iterable[Output]) -> list[Output]:
    chosen = list(outputs)
    if any(output.team_id != membership.team_id for output in chosen):
        raise ReviewRejected({"outputs": "Choose outputs of your own team."})
    return chosen


def board_add(*, membership: Membership, board: Board, outputs: Iterable[Output]) -> int:
    """Add outputs (already there is fine); returns how many were new."""
    _in_team(membership, board)
    chosen = _team_outputs(membership, outputs)
    with transaction.atomic():
        present = set(
            BoardItem.objects.filter(board=board, output__in=chosen).values_list("output_id", flat=True)
        )
        new = [
            BoardItem(board=board, output=output, added_by=membership.user)
            for output in {output.pk: output for output in chosen}.values()
            if output.pk not in present
        ]
        BoardItem.objects.bulk_create(new, ignore_conflicts=True)
        Board.objects.filter(pk=board.pk).update(updated_at=timezone.now())
    return len(new)


def board_remove(*, membership: Membership, board: Board, outputs: Iterable[Output]) -> int:
    _in_team(membership, board)
    chosen = _team_outputs(membership, outputs)
    deleted, _ = BoardItem.objects.filter(board=board, output__in=chosen).delete()
    return deleted


def board_autoadd(*, output: Output) -> bool:
    """Put a newly stored output on the board its generation was submitted for, if any."""
    generation = output.generation
    if generation.board_id is None:
        return False
    board = Board.objects.filter(pk=generation.board_id, team_id=output.team_id).first()
    if board is None:
        return False
    _, created = BoardItem.objects.get_or_create(
        board=board, output=output, defaults={"added_by_id": generation.created_by_id}
    )
    return created
