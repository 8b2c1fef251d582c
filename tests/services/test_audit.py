"""The audit log: rows record who did what to what from where, and can never be changed."""

import pytest

from animate.models import AuditEvent
from animate.models.audit import AuditIsAppendOnly
from animate.services.audit import audit_record, client_ip


def test_a_row_names_the_actor_the_team_the_target_and_the_address(team, admin, member):
    from animate.models import Membership

    membership = Membership.objects.get(user=member)

    event = audit_record(
        action=AuditEvent.Action.ROLE_CHANGED,
        team=team,
        actor=admin,
        target=membership,
        detail={"from": "member", "to": "reviewer"},
        ip="203.0.113.9",
    )

    event.refresh_from_db()
    assert (event.team_id, event.actor_id, event.actor_name) == (team.pk, admin.pk, "ada")
    assert (event.target_type, event.target_id) == ("membership", str(membership.pk))
    assert event.detail == {"from": "member", "to": "reviewer"} and event.ip == "203.0.113.9"


def test_a_failed_login_is_recorded_without_a_user_or_team(db):
    event = audit_record(action="login_failed", team=None, actor_name="nobody", ip="198.51.100.1")

    assert event.actor is None and event.team is None and event.actor_name == "nobody"


def test_an_unknown_action_is_refused(team, admin):
    with pytest.raises(ValueError):
        audit_record(action="made_coffee", team=team, actor=admin)
    assert not AuditEvent.objects.exists()


def test_audit_rows_can_be_neither_changed_nor_deleted(team, admin):
    event = audit_record(action="login", team=team, actor=admin)

    event.action = AuditEvent.Action.LOGOUT
    with pytest.raises(AuditIsAppendOnly):
        event.save()
    with pytest.raises(AuditIsAppendOnly):
        event.delete()
    with pytest.raises(AuditIsAppendOnly):
        AuditEvent.objects.update(action="logout")
    with pytest.raises(AuditIsAppendOnly):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().action == "login"


@pytest.mark.parametrize(
    ("trusted", "meta", "expected"),
    [
        (False, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}, "10.0.0.2"),
        (True, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.5, 10.0.0.1"}, "203.0.113.5"),
        (True, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "garbage"}, "10.0.0.2"),
        (False, {}, None),
    ],
)
def test_the_client_address_trusts_a_proxy_header_only_when_told_to(settings, trusted, meta, expected):
    settings.TRUST_X_FORWARDED_FOR = trusted

    assert client_ip(meta) == expected
