"""The team gallery and its boards: every output of the team as cards, filtered by the URL."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from animate.filters import GalleryFilterForm, gallery_form
from animate.models import Board, Membership
from animate.services import boards, gallery, generations, shares
from animate.services.review import ReviewForbidden, ReviewRejected, ReviewState
from animate.views.common import int_or_none, no_team, request_membership
from animate.views.generations import parameters_summary


def card_view(card: gallery.Card, *, query: str) -> dict[str, Any]:
    """What one card of the grid shows (the template renders this dict only)."""
    generation = card.generation
    base: dict[str, Any] = {
        "kind": card.kind,
        "generation": generation,
        "submitter": generation.created_by.get_username() if generation.created_by else "a former member",
        "summary": parameters_summary(generation.parameters, generation.number_results),
        "created_at": generation.created_at,
    }
    output = card.output
    if output is None:
        return {
            **base,
            "id": f"run-{generation.pk}",
            "cost": generation.actual_cost,
            "status": generation.status,
            "status_label": generation.get_status_display(),
            # gallery_page annotates the runs of its run cards (they have no output, so received=0).
            "charge_flag": generations.charge_flag(
                generation, unstored=int(generation.charged_unstored), received=0
            ),
            "error": generation.error_message,
            "url": reverse("generation-detail", args=[generation.pk]),
        }
    suffix = f"?{query}" if query else ""
    return {
        **base,
        "id": f"output-{output.pk}",
        "output": output,
        "cost": output.cost,
        "state": output.review_state,
        "state_label": ReviewState.LABELS[output.review_state],
        # How the run ended, when that is not a plain "Done": "Done — 2 of 3", "Done — error reported".
        "run_label": (
            generations.status_label(
                generation, received=generation.number_results - generation.results_failed
            )
            if generation.is_partial or generation.is_done_with_error
            else ""
        ),
        # A card shows one stored result of its run (hence received=1): other charges may have none.
        "charge_flag": generations.charge_flag(generation, unstored=output.run_unstored, received=1),
        "rating": output.rating,
        "starred": output.starred,
        "purged": output.purged_at is not None,
        "video": reverse("media-output", args=[output.pk]) if output.file else None,
        "poster": reverse("media-output-poster", args=[output.pk]) if output.poster else None,
        "url": reverse("output-review", args=[output.pk]) + suffix,
    }


def _gallery_context(
    request: HttpRequest, membership: Membership, form: GalleryFilterForm, *, base_url: str
) -> dict[str, Any]:
    filters = form.filters()
    page = gallery.gallery_page(
        membership=membership,
        filters=filters,
        page=int_or_none(request.GET.get("page")) or 1,
        page_size=form.chosen_page_size,
    )
    query = form.query()
    return {
        "membership": membership,
        "form": form,
        "filters": filters,
        "page": page,
        "cards": [card_view(card, query=query) for card in page.cards],
        "query": query,
        "base_url": base_url,
        "previous_url": f"{base_url}?{form.query(page=page.number - 1)}" if page.has_previous else None,
        "next_url": f"{base_url}?{form.query(page=page.number + 1)}" if page.has_next else None,
        "boards": list(boards.boards_for(membership)),
        "is_admin": membership.role == Membership.Role.ADMIN,
        "lifetimes": [(key, label) for key, (_, label) in shares.LIFETIMES.items()],
        "page_data": {
            "outputs": [card.output.pk for card in page.cards if card.output is not None],
            "api": {
                "archive": reverse("api:archive"),
                "boards": reverse("api:board-list"),
                "shares": reverse("api:share-list"),
                "compare": reverse("compare"),
            },
            "archived_view": filters.archived == gallery.ARCHIVED_ONLY,
        },
    }


@login_required
def gallery_page(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    if membership is None:
        return no_team(request)
    form = gallery_form(request.GET, membership=membership)
    context = _gallery_context(request, membership, form, base_url=reverse("gallery"))
    return render(request, "animate/gallery/gallery.html", {**context, "nav": "gallery"})


@login_required
@require_http_methods(["GET", "POST"])
def board_list(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    if membership is None:
        return no_team(request)
    error = ""
    name = ""
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            board = boards.board_create(membership=membership, name=name)
        except ReviewRejected as exc:
            error = exc.problems.get("name", str(exc))
        else:
            messages.success(request, f"Board “{board.name}” created.")
            return redirect("board-detail", pk=board.pk)
    context = {
        "nav": "boards",
        "membership": membership,
        "boards": boards.boards_for(membership).select_related("created_by"),
        "name": name,
        "error": error,
    }
    return render(request, "animate/gallery/boards.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def board_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    if membership is None:
        return no_team(request)
    board = get_object_or_404(Board.objects.select_related("created_by"), pk=pk, team_id=membership.team_id)
    rename_error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "rename":
                boards.board_rename(membership=membership, board=board, name=request.POST.get("name", ""))
                messages.success(request, "Board renamed.")
            elif action == "delete":
                boards.board_delete(membership=membership, board=board)
                messages.success(
                    request, f"Board “{board.name}” deleted; its outputs are still in the gallery."
                )
                return redirect("board-list")
            else:
                raise Http404("Unknown action.")
            return redirect("board-detail", pk=board.pk)
        except ReviewRejected as exc:
            rename_error = exc.problems.get("name", str(exc))
            board.refresh_from_db()
        except ReviewForbidden as exc:
            messages.error(request, str(exc))
            return redirect("board-detail", pk=board.pk)
    form = gallery_form(request.GET, membership=membership, fixed_board=board)
    context = _gallery_context(request, membership, form, base_url=reverse("board-detail", args=[board.pk]))
    context.update(
        {
            "nav": "boards",
            "board": board,
            "rename_error": rename_error,
            "can_manage": board.created_by_id == membership.user_id
            or membership.role == Membership.Role.ADMIN,
        }
    )
    return render(request, "animate/gallery/gallery.html", context, status=400 if rename_error else 200)
