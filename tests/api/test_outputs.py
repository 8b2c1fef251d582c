"""The outputs API: the gallery's filters, constant queries per page, one output with its review,
archiving, and another team's objects answered 404 like missing ones."""

import pytest

from animate.models import Board, BoardItem, Membership
from animate.services import review
from tests.api.conftest import api_client
from tests.reviewkit import result, run

OUTPUTS = "/api/outputs/"


@pytest.fixture
def made(creator, image, video):
    def make(count: int = 1, **fields):
        generation = run(creator, image, video)
        return [result(generation, **fields) for _ in range(count)]

    return make


@pytest.mark.parametrize("count", [10, 60])
def test_the_outputs_list_costs_the_same_queries_at_10_and_60_outputs(
    reviewer, made, django_assert_num_queries, count
):
    outputs = made(count)
    reviewing = Membership.objects.get(user=reviewer)
    for output in outputs[::4]:
        review.verdict_set(membership=reviewing, output=output, decision="approved", rating=4)
    client = api_client(reviewer)
    client.get(OUTPUTS)

    # session, user, membership, filter choices (members, boards), count, page.
    with django_assert_num_queries(7):
        response = client.get(OUTPUTS, {"page_size": 100})

    assert response.status_code == 200
    assert response.json()["count"] == count and len(response.json()["results"]) == count


def test_a_card_carries_the_review_state_rating_star_and_facts(creator, reviewer, made):
    output = made()[0]
    review.verdict_set(
        membership=Membership.objects.get(user=reviewer), output=output, decision="approved", rating=5
    )
    review.star_set(membership=Membership.objects.get(user=reviewer), output=output, starred=True)

    mine = api_client(reviewer).get(OUTPUTS).json()["results"][0]
    theirs = api_client(creator).get(OUTPUTS).json()["results"][0]

    assert mine["id"] == output.pk and mine["review_state"] == "approved" and mine["rating"] == 5.0
    assert mine["starred"] is True and theirs["starred"] is False
    assert (mine["mode"], mine["tier"], mine["output_format"]) == ("animate", "480p", "MP4")
    assert mine["cost"] == "0.0300" and mine["created_by"] == "creator"
    assert mine["player"] == f"/outputs/{output.pk}/"
    assert mine["url"].endswith(f"/m/outputs/{output.pk}/file")


def test_the_list_takes_the_gallerys_filters(reviewer, made):
    rejected, other = made(2)
    review.verdict_set(
        membership=Membership.objects.get(user=reviewer),
        output=rejected,
        decision="rejected",
        reasons=["face_drift"],
    )
    client = api_client(reviewer)

    assert [r["id"] for r in client.get(OUTPUTS, {"verdict": "rejected"}).json()["results"]] == [rejected.pk]
    assert [r["id"] for r in client.get(OUTPUTS, {"reason": "face_drift"}).json()["results"]] == [rejected.pk]
    assert [r["id"] for r in client.get(OUTPUTS, {"verdict": "unreviewed"}).json()["results"]] == [other.pk]
    assert [r["id"] for r in client.get(OUTPUTS, {"sort": "oldest"}).json()["results"]] == [
        rejected.pk,
        other.pk,
    ]


def test_a_bad_filter_is_a_400_naming_it(reviewer, made):
    made()

    response = api_client(reviewer).get(OUTPUTS, {"verdict": "great", "date_from": "yesterday"})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"verdict", "date_from"}


def test_one_output_with_its_verdicts_history_comments_boards_and_siblings(creator, reviewer, made):
    first, second = made(2)
    reviewing = Membership.objects.get(user=reviewer)
    review.verdict_set(membership=reviewing, output=first, decision="approved")
    review.verdict_set(membership=reviewing, output=first, decision="rejected", reasons=["artefacts"])
    review.comment_add(membership=reviewing, output=first, at_seconds=1.25, body="Flicker")
    board = Board.objects.create(team_id=first.team_id, name="B")
    BoardItem.objects.create(board=board, output=first)

    body = api_client(creator).get(f"{OUTPUTS}{first.pk}/").json()

    assert body["review_state"] == "rejected"
    assert [v["decision"] for v in body["verdicts"]] == ["rejected"]
    assert [v["decision"] for v in body["history"]] == ["rejected", "approved"]
    assert body["comments"][0]["at_seconds"] == 1.25 and body["comments"][0]["author_name"] == "reviewer"
    assert body["boards"] == [board.pk] and body["siblings"] == [second.pk]


def test_another_teams_member_gets_404_and_an_empty_list(outsider, made):
    output = made()[0]
    client = api_client(outsider)

    assert client.get(OUTPUTS).json()["results"] == []
    for path in (
        f"{OUTPUTS}{output.pk}/",
        f"{OUTPUTS}{output.pk}/verdicts/",
        f"{OUTPUTS}{output.pk}/comments/",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"errors": {"detail": ["No such output in your team."]}}
    assert client.put(f"{OUTPUTS}{output.pk}/star/").status_code == 404
    archived = client.post("/api/archive/", {"action": "archive", "outputs": [output.pk]}, format="json")
    assert archived.status_code == 400 and "outputs" in archived.json()["errors"]
    output.refresh_from_db()
    assert output.archived_at is None


def test_archive_restore_and_purge_over_the_api(owner, creator, made):
    output = made(with_files=True)[0]
    client = api_client(creator)

    archived = client.post("/api/archive/", {"action": "archive", "outputs": [output.pk]}, format="json")
    refused = client.post("/api/archive/", {"action": "purge", "outputs": [output.pk]}, format="json")
    purged = api_client(owner).post(
        "/api/archive/", {"action": "purge", "outputs": [output.pk]}, format="json"
    )

    assert archived.status_code == 200 and archived.json()["outputs"] == [output.pk]
    assert refused.status_code == 403
    assert purged.status_code == 200 and purged.json()["outputs"] == [output.pk]
    output.refresh_from_db()
    assert output.purged_at is not None and not output.file
    assert client.get(f"/m/outputs/{output.pk}/file").status_code == 404
    assert client.get(OUTPUTS, {"archived": "only"}).json()["results"][0]["purged"] is True


def test_archive_input_errors_name_their_field(creator, made):
    client = api_client(creator)

    assert set(client.post("/api/archive/", {"action": "burn"}, format="json").json()["errors"]) == {"action"}
    empty = client.post("/api/archive/", {"action": "archive"}, format="json")
    assert empty.status_code == 400 and "items" in empty.json()["errors"]


def test_every_review_endpoint_is_in_the_openapi_schema(creator):
    schema = api_client(creator).get("/api/schema/", HTTP_ACCEPT="application/json").json()

    for path in (
        "/api/outputs/",
        "/api/outputs/{id}/",
        "/api/outputs/{id}/verdicts/",
        "/api/outputs/{id}/comments/",
        "/api/outputs/{id}/star/",
        "/api/comments/{id}/",
        "/api/archive/",
        "/api/boards/",
        "/api/boards/{id}/",
        "/api/boards/{id}/items/",
        "/api/boards/{id}/items/{output_pk}/",
        "/api/shares/",
        "/api/shares/{id}/",
    ):
        assert path in schema["paths"], path
    parameters = {p["name"] for p in schema["paths"]["/api/outputs/"]["get"]["parameters"]}
    assert {"verdict", "reason", "board", "starred", "sort", "cost", "date_from", "q"} <= parameters
