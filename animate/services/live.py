"""What a (re)connecting browser is told first: the state from the database, never from memory."""

from typing import Any

from django.db.models import Q

from animate.models import Generation
from animate.services import eta
from animate.services.generations import generation_event
from animate.services.ingest import output_event
from animate.services.review import review_snapshot
from animate.services.teams import membership_for


def team_id_for(user: Any, *, team_id: int | None = None) -> int | None:
    """The team a socket of ``user`` follows: ``team_id`` (the session's choice) if the user is in it,
    else their first team."""
    membership = membership_for(user, team_id=team_id) if user is not None else None
    return membership.team_id if membership else None


def snapshot_for(user: Any, *, team_id: int | None = None, recent: int = 20) -> dict[str, Any]:
    """The user's unfinished generations plus the most recent finished ones, with their outputs."""
    membership = membership_for(user, team_id=team_id)
    if membership is None:
        return {"type": "snapshot", "generations": []}
    unfinished = Q(created_by=user) & ~Q(status__in=Generation.TERMINAL)
    recent_ids = list(
        Generation.objects.filter(team_id=membership.team_id, created_by=user)
        .order_by("-created_at")
        .values_list("id", flat=True)[:recent]
    )
    generations = (
        Generation.objects.filter(Q(team_id=membership.team_id) & (unfinished | Q(id__in=recent_ids)))
        .select_related("video")
        .prefetch_related("outputs")
        .order_by("-created_at")
    )
    rates = eta.team_rates(team_id=membership.team_id)
    items = []
    for generation in generations:
        item = generation_event(generation, rates=rates)
        item["outputs"] = [output_event(output)["output"] for output in generation.outputs.all()]
        items.append(item)
    return {"type": "snapshot", "generations": items}


def review_snapshot_for(
    user: Any, *, team_id: int, output_ids: list[Any], comments: bool = False
) -> dict[str, Any]:
    """Review state (verdicts, the user's stars, optionally comments) of the socket team's outputs among
    ``output_ids``; ids of other teams, or that are not numbers, are left out."""
    membership = membership_for(user, team_id=team_id)
    ids = [pk for pk in output_ids if isinstance(pk, int) and not isinstance(pk, bool)]
    if membership is None or membership.team_id != team_id:
        return {"type": "review.snapshot", "outputs": {}}
    return review_snapshot(membership=membership, output_ids=ids, comments=comments)
