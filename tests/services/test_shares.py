"""Share links: signed tokens naming one link, expiry, revocation, what a link grants, who sees them."""

from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from animate.models import AuditEvent, BoardItem, Membership, ShareLink
from animate.services import boards, shares
from animate.services.review import ReviewForbidden, ReviewRejected
from tests.reviewkit import result, run


def _m(user) -> Membership:
    return Membership.objects.select_related("team").get(user=user)


@pytest.fixture
def outputs(member, image_asset, video_asset):
    generation = run(member, image_asset, video_asset)
    return [result(generation) for _ in range(3)]


@pytest.mark.parametrize(("choice", "hours"), [("1h", 1), ("1d", 24), ("7d", 168)])
def test_a_link_expires_after_the_chosen_time_and_then_opens_nothing(member, outputs, choice, hours):
    share, token = shares.share_create(membership=_m(member), output=outputs[0], expires_in=choice)

    assert abs((share.expires_at - timezone.now()) - timedelta(hours=hours)) < timedelta(seconds=30)
    assert shares.share_for_token(token) == share
    ShareLink.objects.filter(pk=share.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert shares.share_for_token(token) is None


def test_a_revoked_link_opens_nothing_and_revoking_is_audited_once(member, outputs):
    share, token = shares.share_create(membership=_m(member), output=outputs[0], ip="127.0.0.1")

    shares.share_revoke(membership=_m(member), share=share)
    shares.share_revoke(membership=_m(member), share=share)

    assert shares.share_for_token(token) is None
    assert [event.action for event in AuditEvent.objects.order_by("pk")] == ["share_created", "share_revoked"]


def test_a_forged_or_tampered_token_opens_nothing(member, outputs):
    share, token = shares.share_create(membership=_m(member), output=outputs[0])
    forged = signing.Signer(salt=shares.SHARE_SALT, key="not-our-secret").sign_object(
        {"s": share.pk, "n": "x"}
    )
    guessed = signing.Signer(salt=shares.SHARE_SALT).sign_object({"s": share.pk, "n": "wrong-nonce"})

    for bad in (forged, guessed, token[:-2] + "zz", "", "nonsense"):
        assert shares.share_for_token(bad) is None


def test_the_token_is_not_stored(member, outputs):
    share, token = shares.share_create(membership=_m(member), output=outputs[0])

    row = ShareLink.objects.filter(pk=share.pk).values().get()
    assert all(token not in str(value) for value in row.values())


def test_a_link_grants_its_output_or_its_boards_current_live_items_only(member, outputs):
    first, second, third = outputs
    board = boards.board_create(membership=_m(member), name="Delivery")
    boards.board_add(membership=_m(member), board=board, outputs=[first, second])
    output_link, _ = shares.share_create(membership=_m(member), output=third)
    board_link, _ = shares.share_create(membership=_m(member), board=board)

    assert list(shares.share_outputs(output_link)) == [third]
    assert set(shares.share_outputs(board_link)) == {first, second}
    second.archived_at = timezone.now()
    second.save(update_fields=["archived_at"])
    BoardItem.objects.create(board=board, output=third)
    assert set(shares.share_outputs(board_link)) == {first, third}


def test_a_link_needs_exactly_one_target_of_the_team_and_a_known_lifetime(member, outsider, outputs):
    board = boards.board_create(membership=_m(member), name="B")
    for kwargs in ({}, {"output": outputs[0], "board": board}, {"output": outputs[0], "expires_in": "1y"}):
        with pytest.raises(ReviewRejected):
            shares.share_create(membership=_m(member), **kwargs)
    with pytest.raises(ReviewRejected):
        shares.share_create(membership=_m(outsider), output=outputs[0])
    assert not ShareLink.objects.exists()


def test_admins_see_and_revoke_every_live_link_others_only_their_own(member, reviewer, admin, outputs):
    mine, _ = shares.share_create(membership=_m(member), output=outputs[0])
    theirs, _ = shares.share_create(membership=_m(reviewer), output=outputs[1])
    expired, _ = shares.share_create(membership=_m(reviewer), output=outputs[2])
    ShareLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert set(shares.shares_active(_m(admin))) == {mine, theirs}
    assert list(shares.shares_active(_m(member))) == [mine]
    with pytest.raises(ReviewForbidden):
        shares.share_revoke(membership=_m(member), share=theirs)
    shares.share_revoke(membership=_m(admin), share=theirs)
    assert list(shares.shares_active(_m(admin))) == [mine]
