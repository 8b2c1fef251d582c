"""The Django admin: staff can read every model; nobody can add, change or delete there (the ledger least)."""

import pytest

from animate.models import CostEntry
from tests.costkit import entry


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(username="sam", password="x", is_staff=True)


def test_staff_read_the_ledger_but_cannot_add_change_or_delete_rows(client, staff, team, member):
    row = entry(team, member, "0.0300")
    client.force_login(staff)

    assert client.get("/admin/animate/costentry/").status_code == 200
    assert client.get(f"/admin/animate/costentry/{row.pk}/change/").status_code == 200  # read-only view
    assert client.get("/admin/animate/costentry/add/").status_code == 403
    assert client.post(f"/admin/animate/costentry/{row.pk}/change/", {"amount": "9"}).status_code == 403
    assert client.post(f"/admin/animate/costentry/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert CostEntry.objects.get().amount == row.amount


@pytest.mark.parametrize(
    "model",
    [
        "team",
        "membership",
        "invite",
        "asset",
        "generation",
        "output",
        "webhookevent",
        "webhookrejection",
        "budget",
        "spendalert",
        "reconciliation",
        "notification",
        "auditevent",
    ],
)
def test_every_model_is_listed_read_only_for_staff(client, staff, model):
    client.force_login(staff)
    assert client.get(f"/admin/animate/{model}/").status_code == 200
    assert client.get(f"/admin/animate/{model}/add/").status_code == 403


def test_people_who_are_not_staff_are_sent_to_the_login(client, admin):
    client.force_login(admin)
    assert client.get("/admin/animate/costentry/").status_code == 302
