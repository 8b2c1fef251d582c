"""Writing the ledger by hand: adjustments are new rows, by admins, with a reason; rows never change."""

from decimal import Decimal

import pytest

from animate.models import AuditEvent, CostEntry, Generation, Membership
from animate.models.ledger import LedgerIsAppendOnly
from animate.services import ledger


def _admin(user):
    return Membership.objects.select_related("team", "user").get(user=user)


def test_an_adjustment_is_a_new_row_naming_who_wrote_it_and_why(
    team, admin, member, image_asset, video_asset
):
    generation = Generation.objects.create(
        team=team, created_by=member, image=image_asset, video=video_asset, parameters={"resolution": "720p"}
    )

    entry = ledger.ledger_adjust(
        membership=_admin(admin),
        amount="-0.0212",
        note="Refund",
        user_id=member.pk,
        generation_id=generation.pk,
        ip="192.0.2.5",
    )

    assert (entry.kind, entry.amount, entry.estimated, entry.note) == (
        "adjustment",
        Decimal("-0.0212"),
        0,
        "Refund",
    )
    assert (entry.recorded_by_id, entry.user_id, entry.generation_id, entry.tier) == (
        admin.pk,
        member.pk,
        generation.pk,
        "720p",
    )
    audit = AuditEvent.objects.get(action="ledger_adjusted")
    assert (audit.target_id, audit.detail["amount"], audit.ip) == (str(entry.pk), "-0.0212", "192.0.2.5")
    with pytest.raises(LedgerIsAppendOnly):
        entry.save()
    with pytest.raises(LedgerIsAppendOnly):
        CostEntry.objects.all().delete()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": "abc"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "1.23456"}, "amount"),
        ({"amount": "Infinity"}, "amount"),
        ({"amount": "2000000"}, "amount"),
        ({"note": "  "}, "note"),
        ({"note": "x" * 1001}, "note"),
        ({"user_id": 999999}, "user"),
        ({"generation_id": 999999}, "generation"),
    ],
)
def test_a_bad_adjustment_is_refused_naming_the_field(team, admin, fields, field):
    values = {"amount": "1.00", "note": "why", **fields}
    with pytest.raises(ledger.AdjustmentInvalid) as refused:
        ledger.ledger_adjust(membership=_admin(admin), **values)
    assert field in refused.value.problems and not CostEntry.objects.exists()


def test_only_admins_adjust_and_only_their_teams_runs_and_members(team, admin, member, outsider):
    with pytest.raises(PermissionError):
        ledger.ledger_adjust(membership=_admin(member), amount="1", note="x")
    with pytest.raises(ledger.AdjustmentInvalid):
        ledger.ledger_adjust(membership=_admin(admin), amount="1", note="x", user_id=outsider.pk)
