"""Team administration pages, the header's team switch, joining by invite, one's notifications."""

import re

import pytest
from django.urls import reverse

from animate.models import AuditEvent, Budget, Invite, Membership, Notification, TemporaryPassword
from animate.services import notifications, teams


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def test_the_team_page_lists_members_with_labelled_role_and_cap_controls(
    admin_client, admin, member, reviewer
):
    html = admin_client.get(reverse("team")).content.decode()

    for name in ("ada", "mia", "rey"):
        assert f'data-member="{name}"' in html
    mia = Membership.objects.get(user=member)
    assert f'<label class="visually-hidden" for="role-{mia.pk}">Role of mia</label>' in html
    assert f'<label class="visually-hidden" for="cap-{member.pk}">Monthly cap of mia (USD)</label>' in html


def test_adding_a_member_shows_their_temporary_password_once(admin_client, team):
    response = admin_client.post(reverse("team-member-create"), {"username": "newbie", "role": "reviewer"})

    assert response["Location"] == reverse("team")
    html = admin_client.get(reverse("team")).content.decode()
    password = re.search(r'id="new-password">([^<]+)<', html).group(1)
    user = Membership.objects.get(user__username="newbie", role="reviewer").user
    assert user.check_password(password) and TemporaryPassword.objects.filter(user=user).exists()
    assert password not in admin_client.get(reverse("team")).content.decode()


def test_a_refused_member_says_why(admin_client):
    html = admin_client.post(reverse("team-member-create"), {"username": "ada"}, follow=True).content.decode()
    assert "That username is taken" in html


def test_roles_change_members_leave_and_the_last_admin_stays(admin_client, admin, member):
    mia = Membership.objects.get(user=member)
    admin_client.post(reverse("team-member-update", args=[mia.pk]), {"role": "reviewer"})
    mine = Membership.objects.get(user=admin)
    html = admin_client.post(reverse("team-member-remove", args=[mine.pk]), follow=True).content.decode()
    admin_client.post(reverse("team-member-remove", args=[mia.pk]))

    assert "A team needs at least one admin" in html
    assert list(Membership.objects.values_list("user__username", "role")) == [("ada", "admin")]


def test_an_invite_link_is_shown_once_and_can_be_revoked(admin_client, team):
    admin_client.post(
        reverse("team-invite-create"), {"role": "member", "days": "7", "email": "x@example.com"}
    )
    html = admin_client.get(reverse("team")).content.decode()
    link = re.search(r'id="new-invite">([^<]+)<', html).group(1)
    invite = Invite.objects.get()
    assert link.startswith("http://testserver/invites/") and invite.email == "x@example.com"

    admin_client.post(reverse("team-invite-revoke", args=[invite.pk]))

    invite.refresh_from_db()
    assert invite.revoked_at is not None
    assert admin_client.get(link.replace("http://testserver", "")).status_code == 404


def test_team_settings_are_saved_and_bad_ones_explained(admin_client, team):
    admin_client.post(reverse("team-settings"), {"time_zone": "Asia/Tokyo", "low_balance_threshold": "20"})
    bad = admin_client.post(reverse("team-settings"), {"time_zone": "Nowhere"}, follow=True).content.decode()

    team.refresh_from_db()
    assert (team.time_zone, str(team.low_balance_threshold)) == ("Asia/Tokyo", "20.0000")
    assert "Choose a time zone from the list" in bad


# --- joining by invite ------------------------------------------------------------------------------------


def test_someone_new_joins_by_invite_creating_their_account(client, team, admin):
    _, token = teams.invite_create(admin=Membership.objects.get(user=admin), role="reviewer")
    url = reverse("invite-accept", args=[token])
    page = client.get(url).content.decode()
    assert "Join Studio" in page and 'for="id_username"' in page

    bad = client.post(url, {"username": "newbie", "password1": "a", "password2": "b"})
    assert bad.status_code == 400 and not Membership.objects.filter(user__username="newbie").exists()
    response = client.post(
        url, {"username": "newbie", "password1": "long-enough-77", "password2": "long-enough-77"}
    )

    assert response["Location"] == reverse("create")
    assert Membership.objects.get(user__username="newbie").role == "reviewer"
    assert client.get(reverse("create")).status_code == 200  # logged in, working in the new team
    assert client.get(url).status_code == 404  # used up


def test_a_logged_in_user_joins_as_they_are_and_switches_to_the_team(
    client, team, other_team, admin, outsider
):
    _, token = teams.invite_create(admin=Membership.objects.get(user=admin), role="member")
    client.force_login(outsider)

    client.post(reverse("invite-accept", args=[token]))

    assert Membership.objects.get(user=outsider, team=team).role == "member"
    assert "Studio" in client.get(reverse("create")).content.decode()


# --- switching teams --------------------------------------------------------------------------------------


def test_the_header_switches_team_for_every_page(client, team, other_team, member):
    Membership.objects.create(user=member, team=other_team, role="admin")
    client.force_login(member)
    html = client.get(reverse("create")).content.decode()
    assert '<label class="visually-hidden" for="team-switch">Team</label>' in html

    response = client.post(reverse("team-switch"), {"team": other_team.pk, "next": "/costs/"})

    assert response["Location"] == "/costs/"
    assert client.get("/costs/").status_code == 200  # an admin in that team
    client.post(reverse("team-switch"), {"team": team.pk})
    assert client.get("/costs/").status_code == 403  # a member in this one
    assert AuditEvent.objects.filter(action="team_switched").count() == 2


def test_switching_to_a_team_one_is_not_in_is_refused(client, member, other_team):
    client.force_login(member)
    html = client.post(reverse("team-switch"), {"team": other_team.pk}, follow=True).content.decode()
    assert "You are not a member of that team." in html


def test_one_team_shows_no_switcher(client, member):
    client.force_login(member)
    assert 'id="team-switch"' not in client.get(reverse("create")).content.decode()


# --- notifications ----------------------------------------------------------------------------------------


def test_notifications_are_listed_counted_in_the_header_and_marked_read(admin_client, team, admin):
    notifications.notify_admins(
        team=team, kind="spend_alert", title="Budget at 80%", body="Careful.", url="/costs/"
    )
    html = admin_client.get(reverse("create")).content.decode()
    assert re.search(r"data-unread>1<", html)

    page = admin_client.get(reverse("notifications")).content.decode()
    assert '<a href="/costs/">Budget at 80%</a>' in page and "Careful." in page
    admin_client.post(reverse("notifications"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert re.search(r"data-unread hidden>0<", admin_client.get(reverse("create")).content.decode())


def test_removing_a_member_from_the_team_page_keeps_their_cap_gone(admin_client, team, member):
    Budget.objects.create(team=team, user=member, monthly_limit=1)
    admin_client.post(reverse("team-member-remove", args=[Membership.objects.get(user=member).pk]))
    assert not Budget.objects.exists()
