"""Verdicts (one current per reviewer, history kept), the overall state in SQL and in Python, comments
pinned to a time (own only), private stars, audit rows, events on commit, and review snapshots."""

import json
import uuid
from decimal import Decimal

import pytest

from animate import events
from animate.models import AuditEvent, Comment, CostEntry, Membership, Output, Star, Verdict
from animate.services import review
from animate.services.review import ReviewForbidden, ReviewRejected
from tests.reviewkit import result, run


@pytest.fixture
def sent(monkeypatch):
    """Every event that would go to a websocket group after commit: (group, event)."""
    delivered: list[tuple[str, dict]] = []
    monkeypatch.setattr(events, "send_now", lambda group, event: delivered.append((group, event)))
    return delivered


@pytest.fixture
def output(member, image_asset, video_asset) -> Output:
    return result(run(member, image_asset, video_asset))


def _m(user) -> Membership:
    return Membership.objects.select_related("team").get(user=user)


# --- verdicts ------------------------------------------------------------------------------------


def test_changing_a_verdict_keeps_the_history_and_one_current_verdict(
    reviewer, output, django_capture_on_commit_callbacks, sent
):
    with django_capture_on_commit_callbacks(execute=True):
        first = review.verdict_set(membership=_m(reviewer), output=output, decision="approved", rating=5)
        second = review.verdict_set(
            membership=_m(reviewer), output=output, decision="rejected", reasons=["mask_bleed", "face_drift"]
        )

    first.refresh_from_db()
    assert not first.is_current and second.is_current
    assert second.reasons == ["face_drift", "mask_bleed"]
    assert [v.pk for v in review.verdict_history(output)] == [second.pk, first.pk]
    assert Verdict.objects.filter(output=output, is_current=True).count() == 1


def test_a_second_current_verdict_of_one_reviewer_is_refused_by_the_database(reviewer, output):
    review.verdict_set(membership=_m(reviewer), output=output, decision="approved")
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Verdict.objects.create(team_id=output.team_id, output=output, reviewer=reviewer, decision="approved")


@pytest.mark.parametrize(
    ("decisions", "state"),
    [
        ([], "unreviewed"),
        (["approved"], "approved"),
        (["rejected"], "rejected"),
        (["approved", "rejected"], "mixed"),
        (["approved", "approved"], "approved"),
    ],
)
def test_the_overall_state_in_sql_matches_the_state_in_python(
    admin, member, reviewer, output, decisions, state
):
    for user, decision in zip((admin, reviewer), decisions, strict=False):
        reasons = ["artefacts"] if decision == "rejected" else []
        review.verdict_set(membership=_m(user), output=output, decision=decision, reasons=reasons)

    annotated = Output.objects.annotate(state=review.review_state_expression()).get(pk=output.pk)

    assert annotated.state == state
    assert review.state_of(review.verdicts_current(output)) == state
    assert review.verdict_event(output)["state"] == state


def test_a_changed_verdict_no_longer_counts_for_the_overall_state(reviewer, output):
    review.verdict_set(
        membership=_m(reviewer), output=output, decision="rejected", reasons=["other"], note="blurry"
    )
    review.verdict_set(membership=_m(reviewer), output=output, decision="approved")

    assert (
        Output.objects.annotate(state=review.review_state_expression()).get(pk=output.pk).state == "approved"
    )


def test_ledger_rows_group_by_the_review_state_of_their_output(reviewer, member, image_asset, video_asset):
    generation = run(member, image_asset, video_asset)
    approved, rejected = result(generation), result(generation)
    review.verdict_set(membership=_m(reviewer), output=approved, decision="approved")
    review.verdict_set(membership=_m(reviewer), output=rejected, decision="rejected", reasons=["face_drift"])
    for output, amount in ((approved, "0.0300"), (rejected, "0.0500")):
        CostEntry.objects.create(
            team_id=generation.team_id,
            generation=generation,
            video_uuid=output.video_uuid,
            key=f"{generation.task_uuid}:{output.video_uuid}",
            amount=Decimal(amount),
        )
    CostEntry.objects.create(
        team_id=generation.team_id,
        generation=generation,
        video_uuid=uuid.uuid4(),  # charged, never stored
        key=f"{generation.task_uuid}:lost",
        amount=Decimal("0.0100"),
    )
    from django.db.models import Sum

    totals = {
        row["review_state"]: Decimal(str(row["total"])).quantize(Decimal("0.0001"))
        for row in CostEntry.objects.annotate(review_state=review.ledger_review_state())
        .values("review_state")
        .annotate(total=Sum("amount"))
    }

    assert totals == {
        "approved": Decimal("0.0300"),
        "rejected": Decimal("0.0500"),
        "unreviewed": Decimal("0.0100"),
    }


@pytest.mark.postgres
def test_ledger_rows_group_by_review_state_on_postgresql_too(reviewer, member, image_asset, video_asset):
    test_ledger_rows_group_by_the_review_state_of_their_output(reviewer, member, image_asset, video_asset)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"decision": "maybe"}, "decision"),
        ({"decision": "rejected"}, "reasons"),
        ({"decision": "rejected", "reasons": ["bad_vibes"]}, "reasons"),
        ({"decision": "rejected", "reasons": ["other"]}, "note"),
        ({"decision": "approved", "reasons": ["face_drift"]}, "reasons"),
        ({"decision": "approved", "rating": 6}, "rating"),
        ({"decision": "approved", "rating": 0}, "rating"),
        ({"decision": "approved", "note": "x" * 2001}, "note"),
    ],
)
def test_bad_verdicts_name_their_field_and_save_nothing(reviewer, output, kwargs, field):
    with pytest.raises(ReviewRejected) as raised:
        review.verdict_set(membership=_m(reviewer), output=output, **kwargs)

    assert list(raised.value.problems) == [field]
    assert not Verdict.objects.exists() and not AuditEvent.objects.exists()


def test_another_teams_output_cannot_be_reviewed(outsider, output):
    with pytest.raises(ReviewRejected):
        review.verdict_set(membership=_m(outsider), output=output, decision="approved")
    assert not Verdict.objects.exists()


def test_a_verdict_is_audited_and_announced_to_the_team_after_commit(
    reviewer, output, django_capture_on_commit_callbacks, sent
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        verdict = review.verdict_set(
            membership=_m(reviewer),
            output=output,
            decision="rejected",
            reasons=["face_drift"],
            rating=2,
            ip="10.0.0.9",
        )
        assert sent == []  # nothing leaves before the commit

    for callback in callbacks:
        callback()
    audit = AuditEvent.objects.get()
    assert audit.action == "verdict_set" and audit.target_id == str(output.pk) and audit.ip == "10.0.0.9"
    assert audit.detail == {"decision": "rejected", "reasons": ["face_drift"], "rating": 2}
    [(group, event)] = sent
    assert group == events.team_group(output.team_id)
    assert (
        event["type"] == "review.verdict" and event["state"] == "rejected" and event["version"] == verdict.pk
    )
    assert event["verdicts"][0]["reason_labels"] == ["Face drift"]
    assert json.loads(json.dumps(event)) == event


# --- comments ------------------------------------------------------------------------------------


def test_a_comment_is_pinned_to_a_time_audited_and_announced(
    member, output, django_capture_on_commit_callbacks, sent
):
    with django_capture_on_commit_callbacks(execute=True):
        comment = review.comment_add(
            membership=_m(member), output=output, at_seconds=1.5, body="  Hand melts  "
        )

    assert (comment.at_seconds, comment.body) == (1.5, "Hand melts")
    assert AuditEvent.objects.get().action == "comment_added"
    [(group, event)] = sent
    assert group == events.team_group(output.team_id)
    assert event == json.loads(json.dumps(event))
    assert event["type"] == "review.comment" and event["comment"]["at_seconds"] == 1.5


@pytest.mark.parametrize(
    ("at", "body", "fields"),
    [
        (-1, "x", ["at_seconds"]),
        (3.5, "x", ["at_seconds"]),  # the output lasts 3 s
        ("soon", "x", ["at_seconds"]),
        (True, "x", ["at_seconds"]),
        (1, "   ", ["body"]),
        (1, "x" * 2001, ["body"]),
        (None, "", ["body", "at_seconds"]),
    ],
)
def test_bad_comments_name_their_fields_and_save_nothing(member, output, at, body, fields):
    with pytest.raises(ReviewRejected) as raised:
        review.comment_add(membership=_m(member), output=output, at_seconds=at, body=body)

    assert sorted(raised.value.problems) == sorted(fields)
    assert not Comment.objects.exists()


def test_only_the_author_edits_or_deletes_a_comment(
    member, reviewer, output, django_capture_on_commit_callbacks, sent
):
    comment = review.comment_add(membership=_m(member), output=output, at_seconds=0.5, body="first")

    with pytest.raises(ReviewForbidden):
        review.comment_edit(membership=_m(reviewer), comment=comment, body="hijacked")
    with pytest.raises(ReviewForbidden):
        review.comment_delete(membership=_m(reviewer), comment=comment)
    with django_capture_on_commit_callbacks(execute=True):
        edited = review.comment_edit(membership=_m(member), comment=comment, body="second")
        review.comment_delete(membership=_m(member), comment=edited)

    assert edited.body == "second" and edited.edited_at is not None
    assert not Comment.objects.exists()
    assert [e.action for e in AuditEvent.objects.order_by("pk")] == [
        "comment_added",
        "comment_edited",
        "comment_deleted",
    ]
    assert [event["type"] for _, event in sent] == ["review.comment", "review.comment_deleted"]


# --- stars ---------------------------------------------------------------------------------------


def test_a_star_is_private_and_announced_only_to_its_users_sockets(
    reviewer, member, output, django_capture_on_commit_callbacks, sent
):
    with django_capture_on_commit_callbacks(execute=True):
        review.star_set(membership=_m(reviewer), output=output, starred=True)
        review.star_set(membership=_m(reviewer), output=output, starred=True)  # twice is once

    assert Star.objects.filter(output=output).count() == 1
    starred = {o.pk: o.starred for o in review.outputs_annotated(Output.objects.all(), user_id=member.pk)}
    assert starred == {output.pk: False}
    assert [group for group, _ in sent] == [events.member_group(output.team_id, reviewer.pk)] * 2
    assert not AuditEvent.objects.exists()

    review.star_set(membership=_m(reviewer), output=output, starred=False)
    assert not Star.objects.exists()


# --- snapshots -----------------------------------------------------------------------------------


def test_a_review_snapshot_holds_only_the_teams_outputs_with_my_stars(
    reviewer, member, outsider, output, image_asset, video_asset
):
    review.verdict_set(membership=_m(reviewer), output=output, decision="approved")
    review.star_set(membership=_m(reviewer), output=output, starred=True)
    review.comment_add(membership=_m(member), output=output, at_seconds=1, body="nice")
    other_team = result(run(outsider, *_outsider_assets(outsider, image_asset, video_asset)))

    mine = review.review_snapshot(
        membership=_m(reviewer), output_ids=[output.pk, other_team.pk], comments=True
    )
    theirs = review.review_snapshot(membership=_m(outsider), output_ids=[output.pk], comments=True)

    assert list(mine["outputs"]) == [str(output.pk)]
    item = mine["outputs"][str(output.pk)]
    assert item["state"] == "approved" and item["starred"] is True and item["comments"][0]["body"] == "nice"
    assert theirs == {"type": "review.snapshot", "outputs": {}}
    assert json.loads(json.dumps(mine)) == mine


def _outsider_assets(outsider, image_asset, video_asset):
    """The outsider's team reuses the test's files under its own rows."""
    from animate.models import Asset

    team_id = _m(outsider).team_id
    copies = []
    for asset in (image_asset, video_asset):
        asset.pk = None
        asset.team_id = team_id
        asset.sha256 = uuid.uuid4().hex * 2
        asset.save()
        copies.append(Asset.objects.get(pk=asset.pk))
    return copies
