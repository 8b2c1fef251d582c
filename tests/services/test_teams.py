"""Team administration: switching teams, members with temporary passwords, roles, invites, settings."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from animate.models import AuditEvent, Budget, CostEntry, Invite, Membership, Team, TemporaryPassword
from animate.services import teams
from tests.costkit import entry

User = get_user_model()


def _admin(user):
    return Membership.objects.select_related("team", "user").get(user=user)


# --- switching -------------------------------------------------------------------------------------------


def test_switching_team_remembers_the_choice_in_the_session_and_audits_it(team, other_team, member):
    Membership.objects.create(user=member, team=other_team, role="reviewer")
    session: dict = {}

    chosen = teams.team_switch(user=member, team_id=str(other_team.pk), session=session, ip="203.0.113.1")
    again = teams.team_switch(user=member, team_id=other_team.pk, session=session)

    assert (
        chosen.team_id == other_team.pk == again.team_id and session[teams.SESSION_TEAM_KEY] == other_team.pk
    )
    assert AuditEvent.objects.filter(action="team_switched").count() == 1
    assert teams.membership_for(member, team_id=teams.session_team_id(session)).role == "reviewer"


@pytest.mark.parametrize("team_id", ["nope", None, 0])
def test_switching_to_a_team_one_is_not_in_changes_nothing(team, other_team, member, team_id):
    session: dict = {}
    assert teams.team_switch(user=member, team_id=team_id or other_team.pk, session=session) is None
    assert session == {}


def test_the_switcher_lists_every_team_of_the_user(team, other_team, member):
    Membership.objects.create(user=member, team=other_team, role="member")
    assert [m.team.name for m in teams.team_memberships(member)] == ["Rivals", "Studio"]


# --- members --------------------------------------------------------------------------------------------


def test_an_admin_creates_a_member_with_a_temporary_password_to_replace(team, admin):
    membership, password = teams.member_create(
        admin=_admin(admin), username="newbie", email="n@example.com", role="reviewer"
    )

    user = membership.user
    assert (membership.team_id, membership.role, user.email) == (team.pk, "reviewer", "n@example.com")
    assert len(password) >= 16 and user.check_password(password)
    assert teams.temporary_password_pending(user)
    assert AuditEvent.objects.get(action="member_added").detail["how"] == "temporary password"

    session = {teams.TEMPORARY_PASSWORD_SESSION_KEY: True}
    teams.temporary_password_replace(user=user, password="a-new-long-password", session=session)
    user.refresh_from_db()
    assert (
        user.check_password("a-new-long-password")
        and not TemporaryPassword.objects.exists()
        and session == {}
    )


@pytest.mark.parametrize(
    ("username", "email", "role", "field"),
    [
        ("", "", "member", "username"),
        ("has space", "", "member", "username"),
        ("ADA", "", "member", "username"),  # taken (any case)
        ("fresh", "not-an-email", "member", "email"),
        ("fresh", "", "owner", "role"),
    ],
)
def test_a_member_that_cannot_be_created_is_refused_naming_the_field(
    team, admin, username, email, role, field
):
    with pytest.raises(teams.TeamChangeRefused) as refused:
        teams.member_create(admin=_admin(admin), username=username, email=email, role=role)
    assert field in refused.value.problems
    assert User.objects.count() == 1


def test_only_admins_administer_the_team(team, member):
    with pytest.raises(teams.NotAllowed):
        teams.member_create(admin=_admin(member), username="x")
    with pytest.raises(teams.NotAllowed):
        teams.invite_create(admin=_admin(member), role="member")


def test_roles_change_and_are_audited_from_and_to(team, admin, member):
    target = Membership.objects.get(user=member)

    teams.member_role_change(admin=_admin(admin), membership_id=target.pk, role="reviewer", ip="192.0.2.9")

    target.refresh_from_db()
    audit = AuditEvent.objects.get(action="role_changed")
    assert target.role == "reviewer" and (audit.detail["from"], audit.detail["to"], audit.ip) == (
        "member",
        "reviewer",
        "192.0.2.9",
    )


def test_the_last_admin_can_be_neither_demoted_nor_removed(team, admin, member):
    mine = _admin(admin)
    with pytest.raises(teams.TeamChangeRefused):
        teams.member_role_change(admin=mine, membership_id=mine.pk, role="member")
    with pytest.raises(teams.TeamChangeRefused):
        teams.member_remove(admin=mine, membership_id=mine.pk)
    teams.member_role_change(admin=mine, membership_id=Membership.objects.get(user=member).pk, role="admin")
    teams.member_role_change(admin=mine, membership_id=mine.pk, role="member")
    assert Membership.objects.get(user=admin).role == "member"


def test_another_teams_member_is_not_found(team, admin, outsider):
    theirs = Membership.objects.get(user=outsider)
    with pytest.raises(teams.TeamChangeRefused) as refused:
        teams.member_role_change(admin=_admin(admin), membership_id=theirs.pk, role="reviewer")
    assert refused.value.problems == {"member": "No such member in your team."}
    with pytest.raises(teams.TeamChangeRefused):
        teams.member_remove(admin=_admin(admin), membership_id=theirs.pk)


def test_removing_a_member_keeps_their_ledger_rows_and_drops_their_cap(team, admin, member):
    Budget.objects.create(team=team, user=member, monthly_limit=Decimal("1"))
    entry(team, member, "0.0300")

    teams.member_remove(admin=_admin(admin), membership_id=Membership.objects.get(user=member).pk)

    assert not Membership.objects.filter(user=member).exists() and not Budget.objects.exists()
    assert CostEntry.objects.get().user_id == member.pk
    assert AuditEvent.objects.get(action="member_removed").detail == {"username": "mia", "role": "member"}


# --- invites ---------------------------------------------------------------------------------------------


def test_an_invite_is_used_once_by_whoever_holds_its_link(team, admin, django_user_model):
    invite, token = teams.invite_create(admin=_admin(admin), role="reviewer", email="r@example.com", days=1)
    assert invite.token_hash != token and teams.invite_for_token(token) == invite
    joiner = django_user_model.objects.create_user(username="joiner", password="x")

    membership = teams.invite_accept(token=token, user=joiner, ip="192.0.2.3")

    assert (membership.team_id, membership.role) == (team.pk, "reviewer")
    assert teams.invite_for_token(token) is None
    with pytest.raises(teams.TeamChangeRefused):
        teams.invite_accept(token=token, user=joiner)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"invite_created", "invite_accepted"} <= actions


def test_a_member_already_in_the_team_keeps_their_role_when_accepting(team, admin, member):
    _, token = teams.invite_create(admin=_admin(admin), role="admin")
    assert teams.invite_accept(token=token, user=member).role == "member"


def test_revoked_expired_and_unknown_invites_do_not_work(team, admin, member):
    revoked, revoked_token = teams.invite_create(admin=_admin(admin), role="member")
    teams.invite_revoke(admin=_admin(admin), invite_id=revoked.pk)
    expired, expired_token = teams.invite_create(admin=_admin(admin), role="member")
    Invite.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    for token in (revoked_token, expired_token, "made-up", ""):
        assert teams.invite_for_token(token) is None
        with pytest.raises(teams.TeamChangeRefused):
            teams.invite_accept(token=token, user=member)
    assert AuditEvent.objects.filter(action="invite_revoked").count() == 1


@pytest.mark.parametrize(
    ("fields", "field"), [({"days": 3}, "days"), ({"email": "x"}, "email"), ({"role": "boss"}, "role")]
)
def test_an_invite_that_cannot_be_made_names_the_field(team, admin, fields, field):
    with pytest.raises(teams.TeamChangeRefused) as refused:
        teams.invite_create(admin=_admin(admin), **{"role": "member", **fields})
    assert field in refused.value.problems and not Invite.objects.exists()


# --- settings ---------------------------------------------------------------------------------------------


def test_the_time_zone_and_low_balance_threshold_are_set_and_audited(team, admin):
    teams.team_settings_update(admin=_admin(admin), time_zone="Europe/Paris", low_balance_threshold="25.5")

    team.refresh_from_db()
    assert (team.time_zone, team.low_balance_threshold) == ("Europe/Paris", Decimal("25.5000"))
    audit = AuditEvent.objects.get(action="team_settings_changed")
    assert audit.detail["to"] == {"time_zone": "Europe/Paris", "low_balance_threshold": "25.5"}
    teams.team_settings_update(admin=_admin(admin), time_zone="Europe/Paris", low_balance_threshold="")
    assert Team.objects.get().low_balance_threshold is None


@pytest.mark.parametrize(
    ("zone", "threshold", "field"),
    [
        ("Mars/Olympus", "", "time_zone"),
        ("UTC", "-1", "low_balance_threshold"),
        ("UTC", "abc", "low_balance_threshold"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(team, admin, zone, threshold, field):
    with pytest.raises(teams.TeamChangeRefused) as refused:
        teams.team_settings_update(admin=_admin(admin), time_zone=zone, low_balance_threshold=threshold)
    assert field in refused.value.problems and Team.objects.get().time_zone == "UTC"
