"""The gallery page and board pages: every output of the team as cards, filters in the URL, a constant
number of queries per page, runs without outputs shown, other teams invisible."""

import uuid

import pytest
from django.urls import reverse

from animate.models import Board, BoardItem, Generation, Membership
from animate.services import review
from tests.costkit import entry
from tests.reviewkit import result, run


def _review(user, output, decision, **kwargs):
    return review.verdict_set(
        membership=Membership.objects.get(user=user), output=output, decision=decision, **kwargs
    )


@pytest.fixture
def outputs(member, image_asset, video_asset):
    def make(count: int, **fields):
        generation = run(member, image_asset, video_asset)
        return [result(generation, **fields) for _ in range(count)]

    return make


def test_the_gallery_is_in_the_navigation_and_shows_every_output_of_the_team_to_a_reviewer(
    client, reviewer, member, outputs
):
    made = outputs(3)
    client.force_login(reviewer)

    response = client.get(reverse("gallery"))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{reverse("gallery")}"' in html and 'aria-current="page">Gallery' in html
    for output in made:
        assert f'data-output-id="{output.pk}"' in html
        assert reverse("output-review", args=[output.pk]) in html
    assert "3 items" in html


def test_cards_show_poster_duration_size_submitter_cost_verdict_and_my_star(client, reviewer, outputs):
    output = outputs(1)[0]
    _review(reviewer, output, "approved", rating=4)
    review.star_set(membership=Membership.objects.get(user=reviewer), output=output, starred=True)
    client.force_login(reviewer)

    html = client.get(reverse("gallery")).content.decode()

    assert reverse("media-output-poster", args=[output.pk]) in html
    assert "3.0 s" in html and "480×704" in html and "mia" in html and "$0.0300" in html
    assert "verdict-badge--approved" in html and "4.0/5" in html
    assert 'aria-pressed="true" aria-label="Star output' in html


def test_stars_are_private_to_each_user(client, reviewer, member, outputs):
    output = outputs(1)[0]
    review.star_set(membership=Membership.objects.get(user=reviewer), output=output, starred=True)
    client.force_login(member)

    html = client.get(reverse("gallery")).content.decode()

    assert 'aria-pressed="false" aria-label="Star output' in html
    assert client.get(reverse("gallery"), {"starred": "1"}).context["page"].count == 0


def test_a_failed_or_running_run_without_outputs_shows_as_one_card_with_its_state(
    client, member, image_asset, video_asset, outputs
):
    outputs(1)
    failed = run(member, image_asset, video_asset, status=Generation.Status.FAILED, error_message="boom")
    running = run(member, image_asset, video_asset, status=Generation.Status.PROCESSING)
    client.force_login(member)

    html = client.get(reverse("gallery")).content.decode()

    assert f'data-generation-id="{failed.pk}"' in html and "boom" in html
    assert f'data-generation-id="{running.pk}"' in html and "badge--processing" in html
    assert client.get(reverse("gallery"), {"status": "running"}).context["page"].count == 1
    # Filters only an output can match leave runs out.
    assert client.get(reverse("gallery"), {"verdict": "unreviewed"}).context["page"].count == 1


def test_a_run_charged_without_a_result_says_so_on_its_card(client, member, image_asset, video_asset):
    charged = run(member, image_asset, video_asset, status=Generation.Status.FAILED, error_message="lost")
    entry(charged.team, member, "0.0300", generation=charged, video_uuid=uuid.uuid4())
    waiting = run(member, image_asset, video_asset, status=Generation.Status.RECEIVING)
    entry(waiting.team, member, "0.0300", generation=waiting, video_uuid=uuid.uuid4())
    uncharged = run(member, image_asset, video_asset, status=Generation.Status.FAILED)
    client.force_login(member)

    cards = {card["generation"].pk: card for card in client.get(reverse("gallery")).context["cards"]}
    html = client.get(reverse("gallery")).content.decode()

    assert cards[charged.pk]["charge_flag"] == "Charged, no result"
    assert cards[waiting.pk]["charge_flag"] == "Charged, result not stored yet"
    assert cards[uncharged.pk]["charge_flag"] == ""
    assert html.count('class="badge badge--charged"') == 2


def test_an_output_card_says_how_its_run_ended_and_what_it_spent_without_a_result(
    client, member, image_asset, video_asset
):
    partial = run(
        member,
        image_asset,
        video_asset,
        number_results=3,
        results_failed=1,
        error_code="inferenceError",
        error_message="boom",
    )
    kept = [result(partial), result(partial)]
    for output in kept:  # each stored result's own charge is no flag
        entry(partial.team, member, "0.0100", generation=partial, video_uuid=output.video_uuid)
    entry(partial.team, member, "0.0100", generation=partial, video_uuid=uuid.uuid4())  # never stored
    plain = result(run(member, image_asset, video_asset))
    client.force_login(member)

    cards = {card["id"]: card for card in client.get(reverse("gallery")).context["cards"]}

    for output in kept:
        card = cards[f"output-{output.pk}"]
        assert (card["run_label"], card["charge_flag"]) == ("Done — 2 of 3", "Charged, 1 result not stored")
    assert (cards[f"output-{plain.pk}"]["run_label"], cards[f"output-{plain.pk}"]["charge_flag"]) == ("", "")


@pytest.mark.parametrize("count", [10, 60])
def test_the_gallery_page_costs_the_same_queries_at_10_and_60_outputs(
    client, reviewer, member, image_asset, video_asset, django_assert_num_queries, count
):
    for index in range(count):
        generation = run(member, image_asset, video_asset)
        output = result(generation)
        if index % 3 == 0:
            _review(reviewer, output, "rejected", reasons=["face_drift"], rating=2)
        if index % 5 == 0:
            BoardItem.objects.create(
                board=Board.objects.get_or_create(team_id=generation.team_id, name="Picks")[0], output=output
            )
    run(member, image_asset, video_asset, status=Generation.Status.FAILED)
    client.force_login(reviewer)
    client.get(reverse("gallery"))  # session and caches warmed alike for both sizes

    # session, user, membership, filter choices (members, boards), count, page keys, outputs, runs,
    # the board list of the selection bar; the header's team switcher and unread notifications.
    with django_assert_num_queries(12):
        response = client.get(reverse("gallery"), {"page_size": "96"})

    assert len(response.context["cards"]) == count + 1


def test_filters_are_kept_in_the_url_and_reproduce_the_view(client, reviewer, member, outputs):
    rejected, approved, _untouched = outputs(3)
    _review(reviewer, rejected, "rejected", reasons=["mask_bleed"])
    _review(reviewer, approved, "approved")
    client.force_login(reviewer)

    page = client.get(reverse("gallery"), {"verdict": "rejected", "reason": "mask_bleed", "sort": "cost"})

    cards = page.context["cards"]
    assert [card["output"].pk for card in cards] == [rejected.pk]
    # The card's link into the player carries the filter, so J / K walk the same list.
    assert cards[0]["url"].endswith("?verdict=rejected&reason=mask_bleed&sort=cost")
    assert page.context["form"]["verdict"].value() == "rejected"


def test_an_invalid_filter_is_shown_next_to_its_field_and_ignored(client, member, outputs):
    outputs(2)
    client.force_login(member)

    response = client.get(
        reverse("gallery"), {"verdict": "lovely", "date_from": "2025-02-10", "date_to": "2025-01-01"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="err-verdict"' in html and 'id="err-date_to"' in html
    assert "The end date is before the start date." in html


def test_every_filter_control_is_labelled(client, member, outputs):
    outputs(1)
    client.force_login(member)

    form = client.get(reverse("gallery")).context["form"]

    for field in form:
        assert field.label and field.id_for_label, field.name


def test_archived_outputs_leave_the_default_view_and_are_shown_in_the_archive(client, member, outputs):
    kept, archived = outputs(2)
    archived.archived_at = archived.created_at
    archived.save(update_fields=["archived_at"])
    client.force_login(member)

    default = client.get(reverse("gallery")).context["cards"]
    archive = client.get(reverse("gallery"), {"archived": "only"}).context["cards"]

    assert [card["output"].pk for card in default] == [kept.pk]
    assert [card["output"].pk for card in archive] == [archived.pk]


def test_another_teams_outputs_never_appear(client, outsider, outputs):
    outputs(2)
    client.force_login(outsider)

    response = client.get(reverse("gallery"))

    assert response.status_code == 200
    assert response.context["page"].count == 0


def test_the_boards_page_creates_a_board_and_refuses_a_duplicate_name_next_to_the_field(client, reviewer):
    client.force_login(reviewer)

    created = client.post(reverse("board-list"), {"name": "  Client  picks "})
    duplicate = client.post(reverse("board-list"), {"name": "client picks"})

    board = Board.objects.get()
    assert board.name == "Client picks"
    assert created.status_code == 302 and created["Location"] == reverse("board-detail", args=[board.pk])
    assert duplicate.status_code == 400
    assert "already has a board called" in duplicate.content.decode()
    assert Board.objects.count() == 1


def test_a_board_page_is_the_gallery_of_its_outputs(client, member, outputs):
    on_board, _elsewhere = outputs(2)
    board = Board.objects.create(team_id=on_board.team_id, name="Hero shots", created_by=member)
    BoardItem.objects.create(board=board, output=on_board)
    client.force_login(member)

    response = client.get(reverse("board-detail", args=[board.pk]))

    assert response.status_code == 200
    assert [card["output"].pk for card in response.context["cards"]] == [on_board.pk]
    assert "Board: Hero shots" in response.content.decode()


def test_a_board_is_renamed_and_deleted_by_its_creator_but_not_by_another_member(
    client, member, reviewer, outputs
):
    output = outputs(1)[0]
    board = Board.objects.create(team_id=output.team_id, name="Mine", created_by=member)
    client.force_login(reviewer)
    refused = client.post(reverse("board-detail", args=[board.pk]), {"action": "delete"})
    assert refused.status_code == 302 and Board.objects.filter(pk=board.pk).exists()

    client.force_login(member)
    client.post(reverse("board-detail", args=[board.pk]), {"action": "rename", "name": "Ours"})
    board.refresh_from_db()
    assert board.name == "Ours"
    deleted = client.post(reverse("board-detail", args=[board.pk]), {"action": "delete"})
    assert deleted["Location"] == reverse("board-list")
    assert not Board.objects.filter(pk=board.pk).exists()
    output.refresh_from_db()  # the output itself stays


def test_another_teams_board_is_404(client, outsider, member, outputs):
    output = outputs(1)[0]
    board = Board.objects.create(team_id=output.team_id, name="Ours", created_by=member)
    client.force_login(outsider)

    assert client.get(reverse("board-detail", args=[board.pk])).status_code == 404
    assert client.post(reverse("board-detail", args=[board.pk]), {"action": "delete"}).status_code == 404
    assert Board.objects.filter(pk=board.pk).exists()
