"""Verdicts, comments and stars over the API: every role reviews, errors name their field, own
comments only, another team's objects 404."""

import pytest

from animate.models import AuditEvent, Comment, Star, Verdict
from tests.api.conftest import api_client
from tests.reviewkit import result, run


@pytest.fixture
def output(creator, image, video):
    return result(run(creator, image, video))


@pytest.mark.parametrize("who", ["owner", "creator", "reviewer"])
def test_admins_members_and_reviewers_may_all_give_a_verdict(request, output, who):
    user = request.getfixturevalue(who)

    response = api_client(user).post(
        f"/api/outputs/{output.pk}/verdicts/",
        {"decision": "rejected", "reasons": ["face_drift"], "rating": 2},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["reasons"] == ["face_drift"] and response.json()["reviewer_name"] == user.username
    assert Verdict.objects.get(reviewer=user).is_current


def test_the_verdict_summary_has_state_current_verdicts_and_history(reviewer, creator, output):
    client = api_client(reviewer)
    client.post(f"/api/outputs/{output.pk}/verdicts/", {"decision": "approved"}, format="json")
    client.post(
        f"/api/outputs/{output.pk}/verdicts/",
        {"decision": "rejected", "reasons": ["other"], "note": "hair"},
        format="json",
    )
    api_client(creator).post(f"/api/outputs/{output.pk}/verdicts/", {"decision": "approved"}, format="json")

    body = client.get(f"/api/outputs/{output.pk}/verdicts/").json()

    assert body["review_state"] == "mixed"
    assert sorted(v["decision"] for v in body["verdicts"]) == ["approved", "rejected"]
    assert len(body["history"]) == 3


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"decision": "meh"}, "decision"),
        ({"decision": "rejected"}, "reasons"),
        ({"decision": "rejected", "reasons": ["nope"]}, "reasons[0]"),
        ({"decision": "rejected", "reasons": ["other"]}, "note"),
        ({"decision": "approved", "rating": 9}, "rating"),
    ],
)
def test_bad_verdicts_are_400_naming_the_field(reviewer, output, payload, field):
    response = api_client(reviewer).post(f"/api/outputs/{output.pk}/verdicts/", payload, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert not Verdict.objects.exists()


def test_comments_are_added_listed_edited_and_deleted_by_their_author_only(reviewer, creator, output):
    mine = api_client(reviewer)
    added = mine.post(
        f"/api/outputs/{output.pk}/comments/", {"at_seconds": 1.5, "body": "Mask bleeds"}, format="json"
    )
    comment_id = added.json()["id"]

    assert added.status_code == 201 and added.json()["at_seconds"] == 1.5
    assert [c["id"] for c in api_client(creator).get(f"/api/outputs/{output.pk}/comments/").json()] == [
        comment_id
    ]
    assert (
        api_client(creator).patch(f"/api/comments/{comment_id}/", {"body": "x"}, format="json").status_code
        == 403
    )
    assert api_client(creator).delete(f"/api/comments/{comment_id}/").status_code == 403
    edited = mine.patch(f"/api/comments/{comment_id}/", {"body": "Mask bleeds at the elbow"}, format="json")
    assert edited.status_code == 200 and edited.json()["edited_at"] is not None
    assert mine.delete(f"/api/comments/{comment_id}/").status_code == 204
    assert not Comment.objects.exists()
    assert [e.action for e in AuditEvent.objects.exclude(action="login").order_by("pk")] == [
        "comment_added",
        "comment_edited",
        "comment_deleted",
    ]


def test_a_comment_beyond_the_videos_end_or_empty_is_400(reviewer, output):
    client = api_client(reviewer)

    late = client.post(f"/api/outputs/{output.pk}/comments/", {"at_seconds": 30, "body": "x"}, format="json")
    empty = client.post(f"/api/outputs/{output.pk}/comments/", {"at_seconds": 1, "body": ""}, format="json")

    assert late.status_code == 400 and list(late.json()["errors"]) == ["at_seconds"]
    assert empty.status_code == 400 and list(empty.json()["errors"]) == ["body"]


def test_stars_are_set_and_cleared_per_user(reviewer, creator, output):
    client = api_client(reviewer)

    assert client.put(f"/api/outputs/{output.pk}/star/").json() == {"output": output.pk, "starred": True}
    assert Star.objects.filter(user=reviewer).count() == 1 and not Star.objects.filter(user=creator).exists()
    assert client.delete(f"/api/outputs/{output.pk}/star/").json()["starred"] is False
    assert not Star.objects.exists()


def test_another_team_cannot_reach_an_outputs_review_or_its_comments(outsider, reviewer, output):
    comment = (
        api_client(reviewer)
        .post(f"/api/outputs/{output.pk}/comments/", {"at_seconds": 0, "body": "ours"}, format="json")
        .json()
    )
    theirs = api_client(outsider)

    assert (
        theirs.post(
            f"/api/outputs/{output.pk}/verdicts/", {"decision": "approved"}, format="json"
        ).status_code
        == 404
    )
    assert (
        theirs.post(
            f"/api/outputs/{output.pk}/comments/", {"at_seconds": 0, "body": "x"}, format="json"
        ).status_code
        == 404
    )
    assert theirs.patch(f"/api/comments/{comment['id']}/", {"body": "x"}, format="json").status_code == 404
    assert theirs.delete(f"/api/comments/{comment['id']}/").status_code == 404
    assert theirs.delete(f"/api/outputs/{output.pk}/star/").status_code == 404
    assert Comment.objects.get().body == "ours" and not Verdict.objects.exists()


def test_anonymous_callers_get_401(output):
    assert api_client().get(f"/api/outputs/{output.pk}/").status_code == 401
