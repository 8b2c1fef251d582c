"""Boards over the API, and choosing a board when submitting a generation."""

import pytest

from animate.models import Board, BoardItem, Generation
from animate.samples import make_character_png, make_driving_video
from tests.api.conftest import GENERATIONS, api_client, stored_asset
from tests.reviewkit import result, run


@pytest.fixture
def outputs(creator, image, video):
    generation = run(creator, image, video)
    return [result(generation) for _ in range(2)]


def test_a_board_is_created_renamed_filled_emptied_and_deleted(reviewer, outputs):
    client = api_client(reviewer)
    created = client.post("/api/boards/", {"name": "Picks"}, format="json")
    board = created.json()["id"]

    assert created.status_code == 201 and created.json()["page"] == f"/boards/{board}/"
    assert (
        client.patch(f"/api/boards/{board}/", {"name": "Client picks"}, format="json").json()["name"]
        == "Client picks"
    )
    added = client.post(
        f"/api/boards/{board}/items/", {"outputs": [o.pk for o in outputs]}, format="json"
    ).json()
    assert added == {"board": board, "added": 2, "item_count": 2}
    listed = client.get("/api/outputs/", {"board": board}).json()["results"]
    assert {r["id"] for r in listed} == {o.pk for o in outputs}
    assert client.delete(f"/api/boards/{board}/items/{outputs[0].pk}/").status_code == 204
    assert client.delete(f"/api/boards/{board}/items/{outputs[0].pk}/").status_code == 404
    assert client.get("/api/boards/").json()[0]["item_count"] == 1
    assert client.delete(f"/api/boards/{board}/").status_code == 204
    assert not Board.objects.exists() and not BoardItem.objects.exists()


def test_board_errors_name_their_field(reviewer, creator, outputs, outsider, tmp_path):
    client = api_client(reviewer)
    board = client.post("/api/boards/", {"name": "Picks"}, format="json").json()["id"]
    foreign = result(run(outsider, *_foreign_assets(outsider, tmp_path)))

    assert list(client.post("/api/boards/", {"name": "picks"}, format="json").json()["errors"]) == ["name"]
    assert list(client.post("/api/boards/", {"name": ""}, format="json").json()["errors"]) == ["name"]
    wrong = client.post(f"/api/boards/{board}/items/", {"outputs": [foreign.pk]}, format="json")
    assert wrong.status_code == 400 and list(wrong.json()["errors"]) == ["outputs"]
    assert api_client(creator).delete(f"/api/boards/{board}/").status_code == 403


def test_another_teams_board_is_404(reviewer, outsider, outputs):
    board = api_client(reviewer).post("/api/boards/", {"name": "Ours"}, format="json").json()["id"]
    theirs = api_client(outsider)

    assert theirs.get("/api/boards/").json() == []
    for call in (
        lambda: theirs.get(f"/api/boards/{board}/"),
        lambda: theirs.patch(f"/api/boards/{board}/", {"name": "x"}, format="json"),
        lambda: theirs.delete(f"/api/boards/{board}/"),
        lambda: theirs.post(f"/api/boards/{board}/items/", {"outputs": [outputs[0].pk]}, format="json"),
    ):
        assert call().status_code == 404
    assert Board.objects.get().name == "Ours"


def test_a_generation_can_be_submitted_for_a_board_of_the_team_only(creator, outsider, image, video):
    board = Board.objects.create(team=image.team, name="Submit here")
    theirs = Board.objects.create(team=outsider.memberships.get().team, name="Theirs")
    client = api_client(creator)
    body = {"image": image.pk, "video": video.pk, "parameters": {"resolution": "480p"}}

    created = client.post(GENERATIONS, {**body, "board": board.pk}, format="json")
    refused = client.post(GENERATIONS, {**body, "board": theirs.pk}, format="json")

    assert created.status_code == 201 and created.json()["board"] == board.pk
    assert Generation.objects.get().board_id == board.pk
    assert refused.status_code == 400 and refused.json() == {
        "errors": {"board": ["No such board in your team."]}
    }


def _foreign_assets(outsider, folder):
    team = outsider.memberships.get().team
    clip = make_driving_video(folder / "v.mp4", seconds=1.0, fps=8, width=160, height=240)
    return (
        stored_asset(team, outsider, "image", make_character_png(folder / "i.png", hue=40)),
        stored_asset(team, outsider, "video", clip),
    )
