"""Reviewing outputs: verdicts with their history, comments pinned to a time, private stars.

Any member of the output's team may review (admins, members and reviewers alike). Every change is one
short transaction that locks the output row, writes an audit row (stars excepted: they are private)
and announces itself on commit: verdicts and comments to the team's sockets, a star only to its own
user's sockets in that team.

The **overall review state** of an output is decided by the current verdicts of its reviewers:

=============  ===================================================
``approved``   at least one approval and no rejection
``rejected``   at least one rejection and no approval
``mixed``      at least one of each
``unreviewed`` no current verdict
=============  ===================================================

``review_state_expression()`` computes it inside a query (one ``CASE`` over two ``EXISTS``), so it can
annotate, filter or group any number of outputs (or ledger rows) without a query per row.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Avg, Case, CharField, Exists, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from animate import events
from animate.models import AuditEvent, Comment, Membership, Output, Star, Verdict
from animate.services.audit import audit_record

NOTE_MAX = 2000
COMMENT_MAX = 2000
RATING_RANGE = range(1, 6)
# Comments may sit a little past the probed duration: a player's last frame can report a later time.
TIME_SLACK_SECONDS = 0.1


class ReviewState:
    APPROVED = "approved"
    REJECTED = "rejected"
    MIXED = "mixed"
    UNREVIEWED = "unreviewed"
    CHOICES = (
        (UNREVIEWED, "Unreviewed"),
        (APPROVED, "Approved"),
        (REJECTED, "Rejected"),
        (MIXED, "Mixed"),
    )
    LABELS = dict(CHOICES)


class ReviewRejected(Exception):
    """Input a review action cannot accept; ``problems`` maps a field to a message."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems.items()))
        self.problems = problems


class ReviewForbidden(Exception):
    """The member may not do this to this object (e.g. edit someone else's comment)."""


# --- overall state, in SQL -----------------------------------------------------------------------


def review_state_expression(**output_lookups: Any) -> Case:
    """The overall review state (``approved`` / ``rejected`` / ``mixed`` / ``unreviewed``) as a query
    expression, for ``.annotate()``, ``.filter()`` or ``.values(...).annotate(...)`` over many rows.

    ``output_lookups`` say how a verdict finds the outer row's output; the default fits a queryset of
    ``Output``. For another model, pass ``Verdict`` lookups against ``OuterRef``\\ s, e.g. ledger rows::

        CostEntry.objects.annotate(review_state=review_state_expression(
            output__generation=OuterRef("generation"), output__video_uuid=OuterRef("video_uuid")))

    (``ledger_review_state()`` is exactly that.) A ledger row without a stored output is ``unreviewed``.
    """
    lookups = output_lookups or {"output": OuterRef("pk")}
    current = Verdict.objects.filter(is_current=True, **lookups)
    approved = Exists(current.filter(decision=Verdict.Decision.APPROVED))
    rejected = Exists(current.filter(decision=Verdict.Decision.REJECTED))
    return Case(
        When(approved & rejected, then=Value(ReviewState.MIXED)),
        When(approved, then=Value(ReviewState.APPROVED)),
        When(rejected, then=Value(ReviewState.REJECTED)),
        default=Value(ReviewState.UNREVIEWED),
        output_field=CharField(),
    )


def ledger_review_state() -> Case:
    """``review_state_expression`` for a ``CostEntry`` queryset (a row finds its output by
    ``(generation, video_uuid)``): cost per approved output, spend on rejected ones, spend by verdict."""
    return review_state_expression(
        output__generation=OuterRef("generation"), output__video_uuid=OuterRef("video_uuid")
    )


def rating_expression() -> Subquery:
    """The mean of the current verdicts' ratings of the outer ``Output`` (null without any)."""
    ratings = (
        Verdict.objects.filter(output=OuterRef("pk"), is_current=True, rating__isnull=False)
        .order_by()
        .values("output")
        .annotate(mean=Avg("rating"))
        .values("mean")
    )
    return Subquery(ratings)


def outputs_annotated(outputs: QuerySet[Output], *, user_id: int | None) -> QuerySet[Output]:
    """``review_state``, ``rating`` and ``starred`` (by that user) on every output, in the same query."""
    return outputs.annotate(
        review_state=review_state_expression(),
        rating=rating_expression(),
        starred=Exists(Star.objects.filter(output=OuterRef("pk"), user_id=user_id)),
    )


def state_of(verdicts: Iterable[Verdict]) -> str:
    """The overall state from an output's current verdicts (the Python twin of the expression)."""
    decisions = {verdict.decision for verdict in verdicts}
    if {Verdict.Decision.APPROVED, Verdict.Decision.REJECTED} <= decisions:
        return ReviewState.MIXED
    if Verdict.Decision.APPROVED in decisions:
        return ReviewState.APPROVED
    if Verdict.Decision.REJECTED in decisions:
        return ReviewState.REJECTED
    return ReviewState.UNREVIEWED


# --- verdicts ------------------------------------------------------------------------------------


def _same_team(membership: Membership, output: Output) -> None:
    if output.team_id != membership.team_id:
        # Callers look objects up within the team; this is the last line, and says nothing more.
        raise ReviewRejected({"output": "No such output in your team."})


def _locked(output: Output) -> Output:
    return Output.objects.select_for_update().get(pk=output.pk)


def _clean_reasons(decision: str, reasons: Iterable[str], note: str) -> list[str]:
    chosen = sorted(set(reasons))
    unknown = [reason for reason in chosen if reason not in Verdict.Reason.values]
    if unknown:
        raise ReviewRejected({"reasons": f"Unknown reason tag: {', '.join(unknown)}."})
    if decision == Verdict.Decision.APPROVED:
        if chosen:
            raise ReviewRejected({"reasons": "Reason tags are for rejections only."})
        return []
    if not chosen:
        raise ReviewRejected({"reasons": "Choose at least one reason for rejecting."})
    if Verdict.Reason.OTHER in chosen and not note.strip():
        raise ReviewRejected({"note": "Say what the other reason is."})
    return chosen


def verdict_set(
    *,
    membership: Membership,
    output: Output,
    decision: str,
    reasons: Iterable[str] = (),
    note: str = "",
    rating: int | None = None,
    ip: str | None = None,
) -> Verdict:
    """Give (or change) the member's verdict; the previous one stays in the history."""
    _same_team(membership, output)
    if decision not in Verdict.Decision.values:
        raise ReviewRejected({"decision": 'Choose "approved" or "rejected".'})
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ReviewRejected({"note": f"Keep the note under {NOTE_MAX} characters."})
    if rating is not None and (isinstance(rating, bool) or rating not in RATING_RANGE):
        raise ReviewRejected({"rating": "A rating is a whole number from 1 to 5."})
    clean = _clean_reasons(decision, reasons, note)
    with transaction.atomic():
        locked = _locked(output)
        Verdict.objects.filter(output=locked, reviewer=membership.user, is_current=True).update(
            is_current=False
        )
        verdict = Verdict.objects.create(
            team_id=locked.team_id,
            output=locked,
            reviewer=membership.user,
            decision=decision,
            reasons=clean,
            note=note,
            rating=rating,
        )
        audit_record(
            action=AuditEvent.Action.VERDICT_SET,
            team=locked.team_id,
            actor=membership.user,
            target=locked,
            detail={"decision": decision, "reasons": clean, "rating": rating},
            ip=ip,
        )
        _publish_team(locked, verdict_event(locked))
    return verdict


def verdicts_current(output: Output) -> list[Verdict]:
    return list(
        Verdict.objects.filter(output=output, is_current=True)
        .select_related("reviewer")
        .order_by("created_at")
    )


def verdict_data(verdict: Verdict) -> dict[str, Any]:
    return {
        "id": verdict.pk,
        "reviewer": verdict.reviewer_id,
        "reviewer_name": verdict.reviewer.get_username(),
        "decision": verdict.decision,
        "reasons": list(verdict.reasons),
        "reason_labels": [Verdict.Reason(reason).label for reason in verdict.reasons],
        "note": verdict.note,
        "rating": verdict.rating,
        "current": verdict.is_current,
        "at": verdict.created_at.isoformat(),
    }


def verdict_event(output: Output, current: list[Verdict] | None = None) -> dict[str, Any]:
    """Every current verdict of an output and its overall state: a whole picture, so a page that
    receives it twice or late can simply replace what it shows (``version`` orders them)."""
    current = verdicts_current(output) if current is None else current
    ratings = [verdict.rating for verdict in current if verdict.rating is not None]
    return {
        "type": "review.verdict",
        "output": output.pk,
        "generation": output.generation_id,
        "state": state_of(current),
        "rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "verdicts": [verdict_data(verdict) for verdict in current],
        # Verdict ids grow with every change made under the output's row lock.
        "version": max((verdict.pk for verdict in current), default=0),
    }


def verdict_history(output: Output) -> list[Verdict]:
    return list(
        Verdict.objects.filter(output=output).select_related("reviewer").order_by("-created_at", "-pk")
    )


# --- comments ------------------------------------------------------------------------------------


def _clean_comment(output: Output, *, at_seconds: Any, body: str) -> tuple[float, str]:
    problems: dict[str, str] = {}
    text = (body or "").strip()
    if not text:
        problems["body"] = "Write a comment."
    elif len(text) > COMMENT_MAX:
        problems["body"] = f"Keep a comment under {COMMENT_MAX} characters."
    try:
        seconds = float(at_seconds)
    except (TypeError, ValueError):
        seconds = -1.0
    if isinstance(at_seconds, bool) or not (0 <= seconds <= output.duration + TIME_SLACK_SECONDS):
        problems["at_seconds"] = f"Pin the comment to a time between 0 and {output.duration:.2f} s."
    if problems:
        raise ReviewRejected(problems)
    return round(min(seconds, output.duration), 3), text


def comment_add(
    *, membership: Membership, output: Output, at_seconds: Any, body: str, ip: str | None = None
) -> Comment:
    _same_team(membership, output)
    seconds, text = _clean_comment(output, at_seconds=at_seconds, body=body)
    with transaction.atomic():
        locked = _locked(output)
        comment = Comment.objects.create(
            team_id=locked.team_id, output=locked, author=membership.user, at_seconds=seconds, body=text
        )
        audit_record(
            action=AuditEvent.Action.COMMENT_ADDED,
            team=locked.team_id,
            actor=membership.user,
            target=comment,
            detail={"output": locked.pk, "at_seconds": seconds},
            ip=ip,
        )
        _publish_team(locked, comment_event(comment))
    return comment


def _own_comment(membership: Membership, comment: Comment) -> None:
    if comment.team_id != membership.team_id:
        raise ReviewRejected({"comment": "No such comment in your team."})
    if comment.author_id != membership.user_id:
        raise ReviewForbidden("Only its author can change or delete a comment.")


def comment_edit(*, membership: Membership, comment: Comment, body: str, ip: str | None = None) -> Comment:
    _own_comment(membership, comment)
    with transaction.atomic():
        locked = Comment.objects.select_for_update().select_related("output").get(pk=comment.pk)
        _, text = _clean_comment(locked.output, at_seconds=locked.at_seconds, body=body)
        locked.body = text
        locked.edited_at = timezone.now()
        locked.save(update_fields=["body", "edited_at"])
        audit_record(
            action=AuditEvent.Action.COMMENT_EDITED,
            team=locked.team_id,
            actor=membership.user,
            target=locked,
            detail={"output": locked.output_id},
            ip=ip,
        )
        _publish_team(locked.output, comment_event(locked))
    return locked


def comment_delete(*, membership: Membership, comment: Comment, ip: str | None = None) -> None:
    _own_comment(membership, comment)
    with transaction.atomic():
        locked = Comment.objects.select_for_update().select_related("output").get(pk=comment.pk)
        output, pk = locked.output, locked.pk
        locked.delete()
        audit_record(
            action=AuditEvent.Action.COMMENT_DELETED,
            team=output.team_id,
            actor=membership.user,
            target_type="comment",
            target_id=pk,
            detail={"output": output.pk},
            ip=ip,
        )
        _publish_team(output, {"type": "review.comment_deleted", "output": output.pk, "id": pk})


def comments_for(output: Output) -> list[Comment]:
    return list(
        Comment.objects.filter(output=output)
        .select_related("author")
        .order_by("at_seconds", "created_at", "pk")
    )


def comment_data(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "output": comment.output_id,
        "author": comment.author_id,
        "author_name": comment.author.get_username(),
        "at_seconds": comment.at_seconds,
        "body": comment.body,
        "created_at": comment.created_at.isoformat(),
        "edited_at": comment.edited_at.isoformat() if comment.edited_at else None,
    }


def comment_event(comment: Comment) -> dict[str, Any]:
    return {"type": "review.comment", "output": comment.output_id, "comment": comment_data(comment)}


# --- stars ---------------------------------------------------------------------------------------


def star_set(*, membership: Membership, output: Output, starred: bool) -> bool:
    """Star or unstar for this member only; returns whether the output is now starred."""
    _same_team(membership, output)
    with transaction.atomic():
        if starred:
            Star.objects.get_or_create(user=membership.user, output=output)
        else:
            Star.objects.filter(user=membership.user, output=output).delete()
        events.publish_on_commit(
            events.member_group(output.team_id, membership.user_id),
            {"type": "review.star", "output": output.pk, "starred": bool(starred)},
        )
    return bool(starred)


# --- snapshots -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutputReview:
    """Everything the player shows about an output's review, read in a fixed number of queries."""

    current: list[Verdict]
    history: list[Verdict]
    comments: list[Comment]
    starred: bool

    @property
    def state(self) -> str:
        return state_of(self.current)


def output_review(output: Output, *, user: Any) -> OutputReview:
    history = verdict_history(output)
    return OutputReview(
        current=sorted((verdict for verdict in history if verdict.is_current), key=lambda v: v.created_at),
        history=history,
        comments=comments_for(output),
        starred=Star.objects.filter(output=output, user_id=getattr(user, "pk", None)).exists(),
    )


def review_snapshot(*, membership: Membership, output_ids: Iterable[int], comments: bool) -> dict[str, Any]:
    """The review state of the team's outputs among ``output_ids`` (others are silently left out), as a
    socket sends it before live events: verdicts and my star for each, and their comments if asked."""
    ids = sorted({int(pk) for pk in output_ids})[:200]
    outputs = {
        output.pk: output
        for output in Output.objects.filter(team_id=membership.team_id, pk__in=ids).only(
            "pk", "generation_id"
        )
    }
    current: dict[int, list[Verdict]] = {pk: [] for pk in outputs}
    for verdict in (
        Verdict.objects.filter(output_id__in=outputs, is_current=True)
        .select_related("reviewer")
        .order_by("created_at")
    ):
        current[verdict.output_id].append(verdict)
    stars = set(
        Star.objects.filter(user_id=membership.user_id, output_id__in=outputs).values_list(
            "output_id", flat=True
        )
    )
    notes: dict[int, list[dict[str, Any]]] = {pk: [] for pk in outputs}
    if comments:
        for comment in (
            Comment.objects.filter(output_id__in=outputs)
            .select_related("author")
            .order_by("at_seconds", "created_at", "pk")
        ):
            notes[comment.output_id].append(comment_data(comment))
    items = {}
    for pk, output in outputs.items():
        item = verdict_event(output, current[pk])
        del item["type"]
        item["starred"] = pk in stars
        if comments:
            item["comments"] = notes[pk]
        items[str(pk)] = item
    return {"type": "review.snapshot", "outputs": items}


def _publish_team(output: Output, event: dict[str, Any]) -> None:
    events.publish_on_commit(events.team_group(output.team_id), event)


def rating_or_zero() -> Coalesce:
    """The mean rating with unrated outputs sorted below every rated one."""
    return Coalesce(rating_expression(), Value(0.0))
