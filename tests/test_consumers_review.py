"""Review events over the real websocket: a review snapshot on request, verdicts and comments to the
whole team, stars only to their user's sockets, nothing to another team, deletes and archives too."""

import json

import pytest
from websockets.exceptions import ConnectionClosed

from animate.models import Membership
from animate.services import archive, review
from tests.reviewkit import result, run
from tests.test_consumers import _open

pytestmark = pytest.mark.timeout(120)


def _m(user) -> Membership:
    return Membership.objects.select_related("team").get(user=user)


def _next(ws, kind: str, timeout: float = 5.0) -> dict:
    """The next message of ``kind``, skipping generation status traffic."""
    while True:
        message = json.loads(ws.recv(timeout=timeout))
        if message["type"] == kind:
            return message
        assert message["type"].startswith(("generation.", "snapshot")), message


def _quiet(ws, seconds: float = 0.8) -> list[dict]:
    seen = []
    try:
        while True:
            seen.append(json.loads(ws.recv(timeout=seconds)))
    except (TimeoutError, ConnectionClosed):
        return [m for m in seen if m["type"].startswith("review.")]


@pytest.fixture
def output(member, image_asset, video_asset):
    return result(run(member, image_asset, video_asset))


def test_a_page_gets_the_review_snapshot_of_its_outputs_then_live_verdicts_and_comments(
    live_server, member, reviewer, outsider, output
):
    review.verdict_set(membership=_m(reviewer), output=output, decision="approved")
    with (
        _open(live_server, member) as ours,
        _open(live_server, reviewer) as rey,
        _open(live_server, outsider) as theirs,
    ):
        for ws in (ours, rey, theirs):
            assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
        ours.send(
            json.dumps({"type": "review.subscribe", "outputs": [output.pk, "x", True], "comments": True})
        )
        theirs.send(json.dumps({"type": "review.subscribe", "outputs": [output.pk]}))

        snapshot = _next(ours, "review.snapshot")
        assert snapshot["outputs"][str(output.pk)]["state"] == "approved"
        assert snapshot["outputs"][str(output.pk)]["comments"] == []
        assert _next(theirs, "review.snapshot") == {"type": "review.snapshot", "outputs": {}}

        verdict = review.verdict_set(
            membership=_m(reviewer), output=output, decision="rejected", reasons=["face_drift"]
        )
        comment = review.comment_add(membership=_m(reviewer), output=output, at_seconds=1.5, body="Drift")

        for ws in (ours, rey):
            event = _next(ws, "review.verdict")
            assert event["state"] == "rejected" and event["version"] == verdict.pk
            assert _next(ws, "review.comment")["comment"]["id"] == comment.pk
        review.comment_delete(membership=_m(reviewer), comment=comment)
        assert _next(ours, "review.comment_deleted")["id"] == comment.pk
        assert _quiet(theirs) == []


def test_a_star_reaches_only_its_users_sockets(live_server, member, reviewer, output):
    with (
        _open(live_server, member) as mia,
        _open(live_server, reviewer) as rey,
        _open(live_server, reviewer) as rey_tab,
    ):
        for ws in (mia, rey, rey_tab):
            json.loads(ws.recv(timeout=5))

        review.star_set(membership=_m(reviewer), output=output, starred=True)

        for ws in (rey, rey_tab):
            assert _next(ws, "review.star") == {"type": "review.star", "output": output.pk, "starred": True}
        assert _quiet(mia) == []


def test_archiving_is_announced_to_the_team(live_server, member, output):
    with _open(live_server, member) as ws:
        json.loads(ws.recv(timeout=5))

        archive.archive_set(membership=_m(member), outputs=[output], archived=True)

        event = _next(ws, "review.archived")
        assert event["outputs"] == [output.pk] and event["archived"] is True
