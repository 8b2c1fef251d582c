"""The review player page: three panes and a transport, facts and lineage, NSFW blur, J / K within the
gallery's filter, re-run with the output's seed, and 404 for another team."""

import pytest
from django.urls import reverse

from animate.models import Membership
from animate.services import review
from tests.reviewkit import result, run


@pytest.fixture
def family(member, image_asset, video_asset):
    parent = run(member, image_asset, video_asset)
    first, second = result(parent, seed=111), result(parent, seed=222)
    child = run(member, image_asset, video_asset, parent=parent)
    return parent, first, second, child


def test_the_player_shows_the_result_its_inputs_one_transport_and_the_review_tools(client, reviewer, family):
    parent, first, second, child = family
    client.force_login(reviewer)

    response = client.get(reverse("output-review", args=[first.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("media-output", args=[first.pk]) in html
    assert (
        reverse("media-asset", args=[parent.video_id]) in html
        and reverse("media-asset", args=[parent.image_id]) in html
    )
    for control in ('aria-label="Scrub"', 'for="speed"', 'data-step="-1"', 'data-step="1"', "data-play"):
        assert control in html
    assert (
        ">Approve</button>" in html and ">Reject</button>" in html and 'for="comment-body">Comment<' in html
    )
    assert reverse("output-review", args=[second.pk]) in html  # the other output, one click away
    assert reverse("generation-detail", args=[child.pk]) in html  # lineage
    assert f"?from={parent.pk}&amp;output={first.pk}" in html  # re-run with tweaks
    assert "style=" not in html and "onclick" not in html.lower()


def test_an_nsfw_output_is_blurred_until_revealed(client, member, image_asset, video_asset):
    flagged = result(run(member, image_asset, video_asset), nsfw=True)
    client.force_login(member)

    html = client.get(reverse("output-review", args=[flagged.pk])).content.decode()

    assert "is-nsfw" in html and "data-reveal" in html and ">Reveal</button>" in html


def test_j_and_k_walk_the_gallery_filter_the_player_was_opened_from(
    client, reviewer, member, image_asset, video_asset
):
    outputs = [result(run(member, image_asset, video_asset)) for _ in range(3)]
    oldest, middle, newest = outputs
    review.verdict_set(membership=Membership.objects.get(user=reviewer), output=middle, decision="approved")
    client.force_login(reviewer)

    unfiltered = client.get(reverse("output-review", args=[middle.pk])).context
    filtered = client.get(reverse("output-review", args=[newest.pk]), {"verdict": "unreviewed"}).context

    assert unfiltered["previous_url"] == reverse("output-review", args=[newest.pk])
    assert unfiltered["next_url"] == reverse("output-review", args=[oldest.pk])
    # Filtered to unreviewed outputs, the approved one in the middle is skipped.
    assert filtered["next_url"] == reverse("output-review", args=[oldest.pk]) + "?verdict=unreviewed"
    assert filtered["previous_url"] is None


def test_the_player_shows_every_reviewers_verdict_and_the_history(client, admin, reviewer, family):
    _, first, _, _ = family
    review.verdict_set(membership=Membership.objects.get(user=reviewer), output=first, decision="approved")
    review.verdict_set(
        membership=Membership.objects.get(user=reviewer),
        output=first,
        decision="rejected",
        reasons=["face_drift"],
    )
    review.verdict_set(
        membership=Membership.objects.get(user=admin), output=first, decision="approved", rating=4
    )
    client.force_login(admin)

    response = client.get(reverse("output-review", args=[first.pk]))

    html = response.content.decode()
    assert "verdict-badge--mixed" in html and "Face drift" in html and "4/5" in html
    assert len(response.context["state"].history) == 3


def test_rerun_with_tweaks_prefills_the_create_page_with_that_outputs_seed(client, member, family):
    parent, first, _, _ = family
    client.force_login(member)

    response = client.get(reverse("create"), {"from": parent.pk, "output": first.pk})

    form = response.context["form"]
    assert str(form.initial["seed"]) == "111" and form.initial["seed_random"] is False
    assert response.context["parent"] == parent


def test_the_create_page_offers_the_teams_boards_for_the_results(client, member, family):
    from animate.models import Board

    board = Board.objects.create(team_id=family[0].team_id, name="Deliveries")
    client.force_login(member)

    html = client.get(reverse("create")).content.decode()

    assert 'for="board_id">Board' in html and f'<option value="{board.pk}">Deliveries</option>' in html


def test_another_teams_member_gets_404_for_the_player_and_compare(client, outsider, family):
    _, first, second, _ = family
    client.force_login(outsider)

    assert client.get(reverse("output-review", args=[first.pk])).status_code == 404
    assert client.get(reverse("compare"), {"a": first.pk, "b": second.pk}).status_code == 404
    assert client.get(reverse("compare"), {"a": "x"}).status_code == 404
