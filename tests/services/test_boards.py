"""Boards: names unique per team, who may rename or delete, adding and removing outputs, and the board
chosen at submit time receiving each result as ingestion stores it."""

import base64

import pytest

from animate.models import Board, BoardItem, Membership
from animate.runware import spec
from animate.samples import make_driving_video
from animate.services import boards, generations, ingest
from animate.services.review import ReviewForbidden, ReviewRejected
from tests.reviewkit import result, run


def _m(user) -> Membership:
    return Membership.objects.select_related("team").get(user=user)


def test_a_board_name_is_trimmed_and_unique_in_the_team_in_any_case(member, outsider):
    board = boards.board_create(membership=_m(member), name="  Hero   shots ")

    assert board.name == "Hero shots"
    with pytest.raises(ReviewRejected) as raised:
        boards.board_create(membership=_m(member), name="HERO SHOTS")
    assert list(raised.value.problems) == ["name"]
    assert boards.board_create(membership=_m(outsider), name="Hero shots").team_id != board.team_id
    for bad in ("", "   ", "x" * 81):
        with pytest.raises(ReviewRejected):
            boards.board_create(membership=_m(member), name=bad)


def test_only_the_creator_or_an_admin_renames_or_deletes_a_board(member, reviewer, admin):
    board = boards.board_create(membership=_m(member), name="Mine")

    with pytest.raises(ReviewForbidden):
        boards.board_rename(membership=_m(reviewer), board=board, name="Taken over")
    with pytest.raises(ReviewForbidden):
        boards.board_delete(membership=_m(reviewer), board=board)
    boards.board_rename(membership=_m(admin), board=board, name="Admin's now")
    assert Board.objects.get().name == "Admin's now"
    boards.board_delete(membership=_m(member), board=board)
    assert not Board.objects.exists()


def test_outputs_are_added_once_removed_and_never_from_another_team(
    member, reviewer, outsider, image_asset, video_asset
):
    generation = run(member, image_asset, video_asset)
    first, second = result(generation), result(generation)
    board = boards.board_create(membership=_m(member), name="Picks")

    assert boards.board_add(membership=_m(reviewer), board=board, outputs=[first, second, first]) == 2
    assert boards.board_add(membership=_m(reviewer), board=board, outputs=[first]) == 0
    assert boards.board_remove(membership=_m(member), board=board, outputs=[first]) == 1
    assert list(BoardItem.objects.values_list("output_id", flat=True)) == [second.pk]
    with pytest.raises(ReviewRejected):
        boards.board_add(membership=_m(outsider), board=board, outputs=[first])


def test_a_board_chosen_at_submit_gets_every_result_as_it_is_stored(
    member, image_asset, video_asset, tmp_path, settings
):
    board = boards.board_create(membership=_m(member), name="From submit")
    generation = generations.generation_create(
        membership=_m(member),
        image=image_asset,
        video=video_asset,
        choices={"resolution": "480p", "numberResults": 2},
        board=board,
    )
    clip = make_driving_video(tmp_path / "result.mp4", seconds=0.5, fps=8, width=160, height=240)
    encoded = base64.b64encode(clip.read_bytes()).decode()
    results = [
        spec.VideoResult(
            task_type="videoInference",
            task_uuid=str(generation.task_uuid),
            status="success",
            video_uuid=video_uuid,
            video_base64_data=encoded,
        )
        for video_uuid in ("1b7c5e2a-0c1f-4d55-9d55-5a1d5a0f0001", "1b7c5e2a-0c1f-4d55-9d55-5a1d5a0f0002")
    ]

    ingest.results_apply(generation_id=generation.pk, results=results)
    ingest.results_apply(generation_id=generation.pk, results=results)  # a duplicate delivery

    generation.refresh_from_db()
    assert generation.board_id == board.pk and generation.status == "done"
    assert generation.outputs.count() == 2
    assert set(BoardItem.objects.filter(board=board).values_list("output__generation_id", flat=True)) == {
        generation.pk
    }
    assert BoardItem.objects.count() == 2


def test_a_board_of_another_team_is_refused_at_submit(member, outsider, image_asset, video_asset):
    theirs = boards.board_create(membership=_m(outsider), name="Theirs")

    with pytest.raises(generations.GenerationRejected) as raised:
        generations.generation_create(
            membership=_m(member),
            image=image_asset,
            video=video_asset,
            choices={"resolution": "480p"},
            board=theirs,
        )

    assert list(raised.value.problems) == ["board"]
