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


# --- logins, through Django's own signals ---------------------------------------------------------------


def test_logins_logouts_and_failed_logins_are_recorded_in_each_team_of_the_user(
    client, team, other_team, member
):
    from animate.models import Membership

    Membership.objects.create(user=member, team=other_team, role="reviewer")

    assert client.post("/accounts/login/", {"username": "mia", "password": "wrong"}).status_code == 200
    client.post("/accounts/login/", {"username": "mia", "password": "pw-mia"}, REMOTE_ADDR="198.51.100.4")
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "nobody", "password": "x"})

    rows = sorted(AuditEvent.objects.values_list("action", "team_id", "actor_id", "actor_name"), key=str)
    assert rows == sorted(
        [
            ("login_failed", team.pk, None, "mia"),
            ("login_failed", other_team.pk, None, "mia"),
            ("login", team.pk, member.pk, "mia"),
            ("login", other_team.pk, member.pk, "mia"),
            ("logout", team.pk, member.pk, "mia"),
            ("logout", other_team.pk, member.pk, "mia"),
            ("login_failed", None, None, "nobody"),
        ],
        key=str,
    )
    assert set(AuditEvent.objects.filter(action="login").values_list("ip", flat=True)) == {"198.51.100.4"}
    assert "wrong" not in str(list(AuditEvent.objects.values_list("detail", flat=True)))


# --- reading the log ---------------------------------------------------------------------------------


def test_the_log_filters_by_action_actor_and_day_and_stays_in_the_team(
    team, other_team, admin, member, outsider
):
    from datetime import UTC, datetime

    from tests.costkit import frozen

    with frozen(datetime(2026, 11, 30, 23, 0, tzinfo=UTC)):
        audit_record(action="budget_changed", team=team, actor=admin)
    audit_record(action="budget_changed", team=team, actor=member)
    audit_record(action="role_changed", team=team, actor=admin)
    audit_record(action="budget_changed", team=other_team, actor=outsider)

    def ids(**params):
        from animate.services.audit import audit_events

        return [event.actor_name for event in audit_events(team_id=team.pk, params=params)]

    assert ids() == ["ada", "mia", "ada"]
    assert ids(action="budget_changed") == ["mia", "ada"]
    assert ids(actor="ADA") == ["ada", "ada"]
    assert ids(**{"from": "2026-12-01"}) == ["ada", "mia"]
    assert ids(to="2026-11-30") == ["ada"]


@pytest.mark.parametrize(("params", "field"), [({"action": "dance"}, "action"), ({"from": "May"}, "from")])
def test_a_bad_audit_filter_names_its_field(team, params, field):
    from animate.services.audit import AuditFilterInvalid, audit_events

    with pytest.raises(AuditFilterInvalid) as refused:
        audit_events(team_id=team.pk, params=params)
    assert field in refused.value.problems


def test_csv_batches_of_the_log_are_newest_first_with_the_detail_as_json(team, admin):
    from animate.services.audit import AUDIT_CSV_HEADER, audit_csv_batch, audit_events

    first = audit_record(action="budget_changed", team=team, actor=admin, detail={"to": "5"}, ip="192.0.2.1")
    second = audit_record(action="role_changed", team=team, actor=admin)
    events = audit_events(team_id=team.pk, params={})

    rows, cursor = audit_csv_batch(events, after=None, size=1)
    rest, end = audit_csv_batch(events, after=cursor, size=1)

    assert [rows[0][0], rest[0][0]] == [second.pk, first.pk] and end == first.pk
    row = dict(zip(AUDIT_CSV_HEADER, rest[0], strict=True))
    assert (row["action"], row["ip"], row["detail"]) == ("budget_changed", "192.0.2.1", '{"to": "5"}')
