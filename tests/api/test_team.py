"""The team over the API: which teams, switching, settings, members, invites, notifications."""

import pytest

from animate.models import AuditEvent, Invite, Membership, Notification
from animate.services import notifications
from tests.api.conftest import api_client


def test_the_team_and_every_team_of_the_caller_are_listed(owner, team, other_team):
    Membership.objects.create(user=owner, team=other_team, role="reviewer")
    client = api_client(owner)

    body = client.get("/api/team/").json()
    theirs = client.get("/api/team/", HTTP_X_TEAM=str(other_team.pk)).json()

    assert body["team"] == {"id": team.pk, "name": "Studio", "slug": "studio", "role": "admin"}
    assert [row["name"] for row in body["teams"]] == ["Elsewhere", "Studio"]
    assert theirs["team"]["role"] == "reviewer" and body["time_zone"] == "UTC"


def test_a_session_client_switches_team_for_its_later_calls(owner, team, other_team):
    Membership.objects.create(user=owner, team=other_team, role="reviewer")
    client = api_client(owner)

    switched = client.post("/api/team/switch/", {"team": other_team.pk}, format="json")

    assert switched.status_code == 200 and switched.json()["team"]["id"] == other_team.pk
    assert client.get("/api/team/").json()["team"]["id"] == other_team.pk
    assert client.get("/api/costs/summary/").status_code == 403  # a reviewer there
    refused = client.post("/api/team/switch/", {"team": 999999}, format="json")
    assert refused.status_code == 400 and refused.json() == {
        "errors": {"team": ["You are not a member of that team."]}
    }


@pytest.mark.parametrize("team_id", [0, 2**63, 10**30])
def test_switching_to_an_id_no_row_can_have_is_400_naming_team(owner, team, team_id):
    response = api_client(owner).post("/api/team/switch/", {"team": team_id}, format="json")

    assert response.status_code == 400 and list(response.json()["errors"]) == ["team"]


def test_settings_are_changed_by_admins_with_errors_named(owner, team):
    client = api_client(owner)

    ok = client.put(
        "/api/team/settings/", {"time_zone": "Europe/Paris", "low_balance_threshold": "10"}, format="json"
    )
    bad = client.put("/api/team/settings/", {"time_zone": "Atlantis"}, format="json")

    assert ok.json()["time_zone"] == "Europe/Paris" and ok.json()["low_balance_threshold"] == "10.0000"
    assert bad.status_code == 400 and "time_zone" in bad.json()["errors"]


def test_members_are_created_changed_capped_and_removed(owner, team, creator):
    client = api_client(owner)

    created = client.post("/api/team/members/", {"username": "newbie", "role": "reviewer"}, format="json")
    member_id = created.json()["id"]
    changed = client.patch(
        f"/api/team/members/{member_id}/", {"role": "member", "monthly_cap": "12.5"}, format="json"
    )
    listed = client.get("/api/team/members/").json()
    removed = client.delete(f"/api/team/members/{member_id}/")

    assert created.status_code == 201 and len(created.json()["temporary_password"]) >= 16
    assert (changed.json()["role"], changed.json()["monthly_cap"], changed.json()["spent_this_month"]) == (
        "member",
        "12.5000",
        "0.0000",
    )
    assert [row["username"] for row in listed] == ["creator", "newbie", "owner"]
    assert removed.status_code == 204 and not Membership.objects.filter(user__username="newbie").exists()
    assert {"member_added", "role_changed", "budget_changed", "member_removed"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )


def test_member_errors_are_named_and_another_teams_member_is_404(owner, outsider):
    client = api_client(owner)
    mine = Membership.objects.get(user=owner)

    assert client.post("/api/team/members/", {"username": "owner"}, format="json").json()["errors"][
        "username"
    ]
    assert client.patch(f"/api/team/members/{mine.pk}/", {"role": "member"}, format="json").json() == {
        "errors": {"role": ["A team needs at least one admin; make someone else admin first."]}
    }
    assert client.patch(f"/api/team/members/{mine.pk}/", {"monthly_cap": "x"}, format="json").json()[
        "errors"
    ]["monthly_cap"]
    theirs = Membership.objects.get(user=outsider)
    assert (
        client.patch(f"/api/team/members/{theirs.pk}/", {"role": "reviewer"}, format="json").status_code
        == 404
    )
    assert client.delete(f"/api/team/members/{theirs.pk}/").status_code == 404


def test_invites_are_made_listed_and_revoked(owner, outsider):
    client = api_client(owner)

    made = client.post("/api/team/invites/", {"role": "reviewer", "days": 30}, format="json")
    listed = client.get("/api/team/invites/").json()
    revoked = client.delete(f"/api/team/invites/{made.json()['id']}/")

    assert made.status_code == 201 and "/invites/" in made.json()["url"]
    assert listed["count"] == 1 and "url" not in listed["results"][0]
    assert revoked.json()["revoked_at"] is not None
    assert client.post("/api/team/invites/", {"days": 2}, format="json").json()["errors"]["days"]
    theirs = Invite.objects.create(
        team=outsider.memberships.get().team, token_hash="x" * 64, expires_at=made.json()["expires_at"]
    )
    assert client.delete(f"/api/team/invites/{theirs.pk}/").status_code == 404


def test_notifications_are_yours_and_can_be_marked_read(owner, creator, team):
    notifications.notify_admins(team=team, kind="spend_alert", title="At 50%", body="")
    client = api_client(owner)

    listed = client.get("/api/notifications/").json()
    marked = client.post("/api/notifications/", {}, format="json")

    assert [row["title"] for row in listed["results"]] == ["At 50%"]
    assert (
        marked.json() == {"marked_read": 1} and not Notification.objects.filter(read_at__isnull=True).exists()
    )
    assert api_client(creator).get("/api/notifications/").json()["count"] == 0
