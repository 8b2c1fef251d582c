"""The review player: one output beside its driving video and character image on one timeline, with
verdicts, time-pinned comments, stars, boards, share links, lineage and re-run."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from animate.filters import gallery_form
from animate.models import BoardItem, Generation, Membership, Output, Verdict
from animate.services import boards, gallery, review, shares
from animate.views.common import no_team, request_membership
from animate.views.generations import parameter_rows, parameters_summary


def team_output_or_404(membership: Membership, pk: int) -> Output:
    output = (
        review.outputs_annotated(
            Output.objects.filter(team_id=membership.team_id, pk=pk), user_id=membership.user_id
        )
        .select_related(
            "generation__created_by", "generation__image", "generation__video", "generation__parent"
        )
        .first()
    )
    if output is None:
        raise Http404("No such output in your team.")
    return output


def _lineage(generation: Generation) -> dict[str, Any]:
    """The run this one re-ran and the runs that re-ran it, each with its first output (if any)."""
    related = [generation.parent] if generation.parent else []
    children = list(generation.children.select_related("created_by").order_by("created_at", "pk"))
    firsts: dict[int, int] = {}
    for output_id, generation_id in (
        Output.objects.filter(generation__in=[*related, *children])
        .order_by("-created_at", "-pk")
        .values_list("pk", "generation_id")
    ):
        firsts[generation_id] = output_id
    return {"parent": generation.parent, "children": children, "first_output": firsts}


@login_required
@require_GET
def output_review(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    if membership is None:
        return no_team(request)
    output = team_output_or_404(membership, pk)
    generation = output.generation
    form = gallery_form(request.GET, membership=membership)
    query = form.query()
    previous_id, next_id = gallery.gallery_neighbours(
        membership=membership, filters=form.filters(), output=output
    )
    suffix = f"?{query}" if query else ""
    state = review.output_review(output, user=request.user)
    mine = next((verdict for verdict in state.current if verdict.reviewer_id == request.user.pk), None)
    siblings = list(Output.objects.filter(generation=generation).order_by("created_at", "pk"))
    on_boards = set(BoardItem.objects.filter(output=output).values_list("board_id", flat=True))
    team_boards = list(boards.boards_for(membership))
    event = review.verdict_event(output, state.current)
    context = {
        "nav": "gallery",
        "membership": membership,
        "output": output,
        "generation": generation,
        "position": next(index for index, sibling in enumerate(siblings, 1) if sibling.pk == output.pk),
        "siblings": siblings,
        "summary": parameters_summary(generation.parameters, generation.number_results),
        "parameter_rows": parameter_rows(generation.parameters),
        "facts": gallery.card_facts(generation.parameters),
        "state": state,
        "event": event,
        "mine": mine,
        "reasons": Verdict.Reason.choices,
        "boards": [(board, board.pk in on_boards) for board in team_boards],
        "lineage": _lineage(generation),
        "lifetimes": [(key, label) for key, (_, label) in shares.LIFETIMES.items()],
        "gallery_url": reverse("gallery") + suffix,
        "previous_url": reverse("output-review", args=[previous_id]) + suffix if previous_id else None,
        "next_url": reverse("output-review", args=[next_id]) + suffix if next_id else None,
        "rerun_url": f"{reverse('create')}?from={generation.pk}&output={output.pk}",
        "is_admin": membership.role == Membership.Role.ADMIN,
        "page_data": {
            "output": output.pk,
            "generation": generation.pk,
            "duration": output.duration,
            "fps": output.fps,
            "me": request.user.pk,
            "starred": output.starred,
            "verdicts": event,
            "comments": [review.comment_data(comment) for comment in state.comments],
            "api": {
                "verdicts": reverse("api:output-verdicts", args=[output.pk]),
                "comments": reverse("api:output-comments", args=[output.pk]),
                "comment": reverse("api:comment-detail", args=[0]).replace("/0/", "/{id}/"),
                "star": reverse("api:output-star", args=[output.pk]),
                "boards": reverse("api:board-list"),
                "shares": reverse("api:share-list"),
                "archive": reverse("api:archive"),
            },
            "previous": reverse("output-review", args=[previous_id]) + suffix if previous_id else None,
            "next": reverse("output-review", args=[next_id]) + suffix if next_id else None,
        },
    }
    return render(request, "animate/review/player.html", context)
