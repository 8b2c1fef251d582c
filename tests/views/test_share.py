"""Share links over HTTP: the public page and its media (with Range) without a login, serving only
what was shared; expired and revoked links 404; the list of live links and revoking from it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from animate.models import Membership, ShareLink
from animate.services import boards, shares
from tests.reviewkit import result, run


def _m(user) -> Membership:
    return Membership.objects.get(user=user)


@pytest.fixture
def outputs(member, image_asset, video_asset):
    generation = run(member, image_asset, video_asset)
    return [result(generation, with_files=True) for _ in range(3)]


def test_a_shared_output_plays_without_login_with_range_and_nothing_else(client, member, outputs):
    shared, other, _ = outputs
    _, token = shares.share_create(membership=_m(member), output=shared)

    page = client.get(reverse("share", args=[token]))
    ranged = client.get(reverse("share-media", args=[token, shared.pk, "file"]), HTTP_RANGE="bytes=0-9")
    poster = client.get(reverse("share-media", args=[token, shared.pk, "poster"]))

    assert page.status_code == 200 and page["Referrer-Policy"] == "no-referrer"
    html = page.content.decode()
    assert reverse("share-media", args=[token, shared.pk, "file"]) in html
    assert "mia" not in html and f"/outputs/{shared.pk}/" not in html and "Log out" not in html
    assert ranged.status_code == 206 and ranged["Content-Range"].startswith("bytes 0-9/")
    assert len(b"".join(ranged.streaming_content)) == 10
    assert poster.status_code == 200
    # The token never reaches another output, nor anything but the two media kinds.
    assert client.get(reverse("share-media", args=[token, other.pk, "file"])).status_code == 404
    assert client.get(reverse("share-media", args=[token, shared.pk, "thumb"])).status_code == 404
    assert client.get(reverse("media-output", args=[shared.pk])).status_code == 404  # no session


def test_a_shared_board_shows_its_live_items_only(client, member, outputs):
    first, second, third = outputs
    board = boards.board_create(membership=_m(member), name="Client delivery")
    boards.board_add(membership=_m(member), board=board, outputs=[first, second])
    second.archived_at = timezone.now()
    second.save(update_fields=["archived_at"])
    _, token = shares.share_create(membership=_m(member), board=board)

    response = client.get(reverse("share", args=[token]))

    assert response.status_code == 200 and "Client delivery" in response.content.decode()
    assert [o.pk for o in response.context["outputs"]] == [first.pk]
    assert client.get(reverse("share-media", args=[token, second.pk, "file"])).status_code == 404
    assert client.get(reverse("share-media", args=[token, third.pk, "file"])).status_code == 404


def test_expired_revoked_and_forged_links_are_404(client, member, outputs):
    expired, token_expired = shares.share_create(membership=_m(member), output=outputs[0])
    ShareLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked, token_revoked = shares.share_create(membership=_m(member), output=outputs[0])
    shares.share_revoke(membership=_m(member), share=revoked)

    for token in (token_expired, token_revoked, "forged-token"):
        assert client.get(reverse("share", args=[token])).status_code == 404
        assert client.get(reverse("share-media", args=[token, outputs[0].pk, "file"])).status_code == 404


def test_admins_list_and_revoke_every_live_link_members_only_their_own(
    client, admin, member, reviewer, outputs
):
    mine, token = shares.share_create(membership=_m(member), output=outputs[0])
    theirs, _ = shares.share_create(membership=_m(reviewer), output=outputs[1])

    client.force_login(member)
    assert [link.pk for link, _ in client.get(reverse("share-list")).context["links"]] == [mine.pk]
    client.force_login(admin)
    assert {link.pk for link, _ in client.get(reverse("share-list")).context["links"]} == {mine.pk, theirs.pk}

    response = client.post(reverse("share-list"), {"share": mine.pk})

    assert response.status_code == 302
    assert client.get(reverse("share", args=[token])).status_code == 404


def test_share_management_of_another_team_is_404(client, outsider, member, outputs):
    mine, _ = shares.share_create(membership=_m(member), output=outputs[0])
    client.force_login(outsider)

    assert client.get(reverse("share-list")).context["links"] == []
    assert client.post(reverse("share-list"), {"share": mine.pk}).status_code == 404
    mine.refresh_from_db()
    assert mine.revoked_at is None
