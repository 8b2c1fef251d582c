"""Gallery filters, sorts, runs without outputs and J / K neighbours, straight on the service."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from animate.models import Board, BoardItem, Generation, Membership
from animate.services import gallery, review
from animate.services.gallery import GalleryFilters
from tests.reviewkit import result, run


@pytest.fixture
def m(member) -> Membership:
    return Membership.objects.get(user=member)


@pytest.fixture
def make(member, image_asset, video_asset):
    def make_output(parameters=None, **fields):
        generation = run(
            member,
            image_asset,
            video_asset,
            parameters={"mode": "animate", "resolution": "480p"} if parameters is None else parameters,
        )
        return result(generation, **fields)

    return make_output


def _ids(membership, **filters) -> list[int]:
    return list(
        gallery.gallery_outputs(membership=membership, filters=GalleryFilters(**filters)).values_list(
            "pk", flat=True
        )
    )


def test_mode_tier_and_format_filters_count_unset_parameters_as_their_defaults(m, make):
    default = make(parameters={})  # animate, MP4, priced at the 720p fallback
    replace = make(parameters={"mode": "replace", "outputFormat": "WEBM", "width": 480, "height": 832})
    big = make(parameters={"resolution": "720p", "outputFormat": "MOV"})
    middle = make(parameters={"resolution": "580p"})

    assert set(_ids(m, mode="animate")) == {default.pk, big.pk, middle.pk}
    assert _ids(m, mode="replace") == [replace.pk]
    assert set(_ids(m, tier="720p")) == {default.pk, big.pk}
    assert _ids(m, tier="480p") == [replace.pk]  # a 360p table size is priced at 480p
    assert _ids(m, tier="580p") == [middle.pk]
    assert set(_ids(m, output_format="MP4")) == {default.pk, middle.pk}
    assert _ids(m, output_format="WEBM") == [replace.pk]


def test_review_filters_verdict_reason_starred_and_board(m, reviewer, make):
    approved, rejected, mixed, untouched = make(), make(), make(), make()
    rm = Membership.objects.get(user=reviewer)
    review.verdict_set(membership=rm, output=approved, decision="approved")
    review.verdict_set(membership=rm, output=rejected, decision="rejected", reasons=["colour_shift"])
    review.verdict_set(membership=rm, output=mixed, decision="approved")
    review.verdict_set(
        membership=m, output=mixed, decision="rejected", reasons=["face_drift", "other"], note="eyes"
    )
    review.star_set(membership=m, output=untouched, starred=True)
    board = Board.objects.create(team_id=m.team_id, name="Picks")
    BoardItem.objects.create(board=board, output=approved)

    assert _ids(m, verdict="approved") == [approved.pk]
    assert _ids(m, verdict="rejected") == [rejected.pk]
    assert _ids(m, verdict="mixed") == [mixed.pk]
    assert _ids(m, verdict="unreviewed") == [untouched.pk]
    assert _ids(m, reason="face_drift") == [mixed.pk]
    assert _ids(m, reason="colour_shift") == [rejected.pk]
    assert _ids(m, starred=True) == [untouched.pk]
    assert _ids(Membership.objects.get(user=reviewer), starred=True) == []
    assert _ids(m, board=board.pk) == [approved.pk]


def test_cost_band_date_range_prompt_and_submitter(m, admin, make, image_asset, video_asset):
    cheap = make(cost=Decimal("0.0300"), parameters={"positivePrompt": "A dancer on the beach"})
    dear = make(cost=Decimal("0.4240"), parameters={"negativePrompt": "no BEACH"})
    free = make(cost=None)
    old = make()
    old.created_at = timezone.now() - datetime.timedelta(days=10)
    old.save(update_fields=["created_at"])
    theirs = result(run(admin, image_asset, video_asset))
    today = timezone.now().date()

    assert set(_ids(m, cost="low")) == {cheap.pk, old.pk, theirs.pk}
    assert _ids(m, cost="high") == [dear.pk]
    assert _ids(m, cost="none") == [free.pk]
    assert set(_ids(m, q="beach")) == {cheap.pk, dear.pk}
    assert _ids(m, date_to=today - datetime.timedelta(days=5)) == [old.pk]
    assert old.pk not in _ids(m, date_from=today)
    assert _ids(m, submitter=admin.pk) == [theirs.pk]


def test_sorts_order_newest_oldest_rating_and_cost(m, reviewer, make):
    first = make(cost=Decimal("0.1000"))
    second = make(cost=Decimal("0.0100"))
    third = make(cost=Decimal("0.0500"))
    rm = Membership.objects.get(user=reviewer)
    review.verdict_set(membership=rm, output=second, decision="approved", rating=5)
    review.verdict_set(membership=m, output=second, decision="approved", rating=3)
    review.verdict_set(membership=rm, output=first, decision="approved", rating=2)

    assert _ids(m) == [third.pk, second.pk, first.pk]
    assert _ids(m, sort="oldest") == [first.pk, second.pk, third.pk]
    assert _ids(m, sort="rating") == [second.pk, first.pk, third.pk]  # 4.0, 2.0, unrated
    assert _ids(m, sort="cost") == [first.pk, third.pk, second.pk]


def test_a_page_mixes_outputs_with_runs_that_have_none_and_neighbours_follow_the_filter(
    m, member, make, image_asset, video_asset
):
    a = make()
    failed = run(member, image_asset, video_asset, status=Generation.Status.FAILED)
    b, c = make(), make()

    page = gallery.gallery_page(membership=m, filters=GalleryFilters(), page=1, page_size=3)

    assert [(card.kind, card.output.pk if card.output else card.generation.pk) for card in page.cards] == [
        ("output", c.pk),
        ("output", b.pk),
        ("run", failed.pk),
    ]
    assert (page.count, page.num_pages, page.has_next) == (4, 2, True)
    assert gallery.gallery_neighbours(membership=m, filters=GalleryFilters(), output=b) == (c.pk, a.pk)
    assert gallery.gallery_neighbours(membership=m, filters=GalleryFilters(sort="oldest"), output=b) == (
        a.pk,
        c.pk,
    )
    # Outside the filter, an output has no neighbours.
    assert gallery.gallery_neighbours(membership=m, filters=GalleryFilters(verdict="approved"), output=b) == (
        None,
        None,
    )


def test_archived_items_leave_the_default_view_and_fill_the_archive(
    m, member, make, image_asset, video_asset
):
    kept, archived = make(), make()
    archived.archived_at = timezone.now()
    archived.save(update_fields=["archived_at"])
    shelved = run(
        member, image_asset, video_asset, status=Generation.Status.FAILED, archived_at=timezone.now()
    )

    default = gallery.gallery_page(membership=m, filters=GalleryFilters())
    archive = gallery.gallery_page(membership=m, filters=GalleryFilters(archived="only"))

    assert [card.output.pk for card in default.cards] == [kept.pk]
    assert {(card.kind, (card.output or card.generation).pk) for card in archive.cards} == {
        ("output", archived.pk),
        ("run", shelved.pk),
    }


def test_card_facts_fill_in_defaults():
    assert gallery.card_facts({}) == {"mode": "animate", "tier": "720p", "output_format": "MP4"}
    assert gallery.card_facts({"mode": "replace", "width": 480, "height": 480, "outputFormat": "MOV"}) == {
        "mode": "replace",
        "tier": "480p",
        "output_format": "MOV",
    }


@pytest.mark.postgres
def test_the_gallery_queries_behave_alike_on_postgresql(m, reviewer, member, make, image_asset, video_asset):
    """The UNION page, JSON parameter filters, reason matching and the review-state CASE on PostgreSQL."""
    rm = Membership.objects.get(user=reviewer)
    cheap = make(cost=Decimal("0.0100"), parameters={"positivePrompt": "Jump"})
    dear = make(cost=Decimal("0.5000"), parameters={"mode": "replace", "width": 480, "height": 832})
    failed = run(member, image_asset, video_asset, status=Generation.Status.FAILED)
    review.verdict_set(membership=rm, output=cheap, decision="rejected", reasons=["audio_desync"], rating=1)
    review.verdict_set(membership=rm, output=dear, decision="approved", rating=5)

    page = gallery.gallery_page(membership=m, filters=GalleryFilters(sort="rating"))

    assert [(card.kind, (card.output or card.generation).pk) for card in page.cards] == [
        ("output", dear.pk),
        ("output", cheap.pk),
        ("run", failed.pk),
    ]
    assert _ids(m, reason="audio_desync") == [cheap.pk]
    assert _ids(m, mode="replace", tier="480p") == [dear.pk]
    assert _ids(m, q="jump", verdict="rejected") == [cheap.pk]
    assert _ids(m, sort="cost") == [dear.pk, cheap.pk]
    assert gallery.gallery_neighbours(membership=m, filters=GalleryFilters(sort="cost"), output=dear) == (
        None,
        cheap.pk,
    )
