"""Reconciliation: Runware's usage per day against the ledger, the balance, alerts, the daily job."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django_tasks_db.models import DBTaskResult

from animate.models import AuditEvent, Membership, Notification, Reconciliation, SpendAlert
from animate.runware.sandbox import engine
from animate.services import ledger, reconcile
from tests.costkit import entry
from tests.livehelpers import fast_settings, submit, wait_terminal

API_URL = "https://api.runware.test/v1"


@pytest.fixture
def runware(settings):
    settings.RUNWARE_API_URL = API_URL
    settings.RUNWARE_API_KEY = "rw-test-key-for-reconciliation"
    settings.RUNWARE_MAX_RETRIES = 0
    return settings


@pytest.fixture
def fresh_sandbox(monkeypatch):
    """A sandbox that has charged nothing yet (the process's one keeps what earlier tests spent)."""
    monkeypatch.setattr(engine, "_instance", engine.Sandbox(workers=2))


def _answer(respx_mock, *, details, activity):
    def respond(request):
        import json

        import httpx

        task = json.loads(request.content)[0]
        body = details if task["operation"] == "getDetails" else activity
        if isinstance(body, int):
            return httpx.Response(body, json={"errors": [{"code": "serviceUnavailable", "message": "down"}]})
        return httpx.Response(200, json=body)

    respx_mock.post(API_URL).mock(side_effect=respond)


def _run(date_from, date_to):
    run = Reconciliation.objects.create(date_from=date_from, date_to=date_to)
    reconcile.reconcile_execute(reconciliation_id=run.pk)
    run.refresh_from_db()
    return run


# --- the range -------------------------------------------------------------------------------------------


def test_the_default_range_is_the_last_seven_days_up_to_today():
    assert reconcile.reconcile_range(today=date(2026, 12, 15)) == (date(2026, 12, 9), date(2026, 12, 15))


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        ("soon", "2026-12-10", "from"),
        ("2026-12-10", "2026-12-09", "to"),
        ("2026-12-10", "2026-12-16", "to"),  # the future
        ("2026-01-01", "2026-12-10", "to"),  # too long
    ],
)
def test_a_range_that_cannot_be_compared_is_refused_naming_the_field(first, last, field):
    with pytest.raises(reconcile.ReconcileInvalid) as refused:
        reconcile.reconcile_range(date_from=first, date_to=last, today=date(2026, 12, 15))
    assert field in refused.value.problems


# --- comparing --------------------------------------------------------------------------------------------


def test_days_that_agree_match_and_a_day_that_differs_shows_the_difference(
    db, runware, respx_mock, team, other_team, member, outsider
):
    entry(team, member, "0.0300", at=datetime(2026, 12, 1, 10, tzinfo=UTC))
    entry(other_team, outsider, "0.0200", at=datetime(2026, 12, 1, 23, 59, tzinfo=UTC))  # every team counts
    entry(team, member, "0.1000", at=datetime(2026, 12, 2, 9, tzinfo=UTC))
    activity = {
        "data": [
            {"activity": [{"date": "2026-12-01", "credits": 0.05}, {"date": "2026-12-02", "credits": 0.07}]}
        ]
    }
    _answer(
        respx_mock,
        details={"data": [{"balance": 12.5, "apiKeys": [{"keyName": "k", "apiKey": "secret-1"}]}]},
        activity=activity,
    )

    run = _run(date(2026, 12, 1), date(2026, 12, 3))

    days = [(d.day.isoformat(), d.ours, d.theirs, d.difference) for d in run.days.all()]
    assert days == [
        ("2026-12-01", Decimal("0.0500"), Decimal("0.0500"), Decimal("0.0000")),
        ("2026-12-02", Decimal("0.1000"), Decimal("0.0700"), Decimal("0.0300")),
        ("2026-12-03", Decimal("0.0000"), Decimal("0.0000"), Decimal("0.0000")),
    ]
    assert run.status == "differences" and run.detail.startswith("1 day differ")
    assert (run.balance, run.ours_total, run.theirs_total) == (
        Decimal("12.5000"),
        Decimal("0.1500"),
        Decimal("0.1200"),
    )
    assert "secret-1" not in str(run.raw) and run.raw["getDetails"]["apiKeys"] == [{"keyName": "k"}]


def test_an_answer_without_readable_days_reconciles_the_balance_only(db, runware, respx_mock):
    _answer(
        respx_mock, details={"data": [{"balance": {"amount": 3}}]}, activity={"data": [{"operation": "x"}]}
    )

    run = _run(date(2026, 12, 1), date(2026, 12, 1))

    assert run.status == "partial" and run.balance == Decimal("3.0000")
    assert "no per-day figures" in run.detail
    assert [(d.theirs, d.difference) for d in run.days.all()] == [(None, None)]


def test_runware_unreachable_ends_the_run_failed_with_the_reason(db, runware, respx_mock):
    _answer(respx_mock, details=503, activity=503)

    run = _run(date(2026, 12, 1), date(2026, 12, 1))

    assert (
        run.status == "failed"
        and "Balance unavailable" in run.detail
        and "Usage per day unavailable" in run.detail
    )
    assert run.finished_at is not None


def test_a_run_is_executed_once(db, runware, respx_mock):
    _answer(respx_mock, details={"data": [{"balance": 1}]}, activity={"data": [{"activity": []}]})
    run = _run(date(2026, 12, 1), date(2026, 12, 1))

    assert reconcile.reconcile_execute(reconciliation_id=run.pk) == "matched"
    assert run.days.count() == 1 and len(respx_mock.calls) == 2


# --- balance alerts ---------------------------------------------------------------------------------------


def test_a_balance_below_a_teams_threshold_alerts_its_admins_once_a_day(
    db, runware, respx_mock, team, other_team, admin
):
    team.low_balance_threshold = Decimal("50")
    team.save()
    other_team.low_balance_threshold = Decimal("5")
    other_team.save()
    _answer(respx_mock, details={"data": [{"balance": 10}]}, activity={"data": [{"activity": []}]})

    _run(date(2026, 12, 1), date(2026, 12, 1))
    _run(date(2026, 12, 1), date(2026, 12, 1))

    (alert,) = SpendAlert.objects.all()
    assert (alert.team_id, alert.kind, alert.limit, alert.spent) == (
        team.pk,
        "low_balance",
        Decimal("50.0000"),
        Decimal("10.0000"),
    )
    (note,) = Notification.objects.all()
    assert note.user_id == admin.pk and "$10.0000" in note.title


# --- starting, the button and the daily job ---------------------------------------------------------------


def test_an_admin_starts_a_reconciliation_that_runs_in_the_background(team, admin, member):
    membership = Membership.objects.select_related("team", "user").get(user=admin)

    run = reconcile.reconcile_for_admin(membership=membership, ip="198.51.100.7")

    assert run.status == "running" and run.started_by_id == admin.pk
    assert (run.date_to - run.date_from).days == 6
    task = DBTaskResult.objects.get(task_path__endswith="reconcile_runware")
    assert task.args_kwargs["args"] == [run.pk]
    audit = AuditEvent.objects.get(action="reconciled")
    assert (audit.team_id, audit.ip) == (team.pk, "198.51.100.7")
    with pytest.raises(PermissionError):
        reconcile.reconcile_for_admin(membership=Membership.objects.get(user=member))


def test_the_daily_job_is_queued_once_for_two_in_the_morning_utc(db):
    reconcile.reconcile_schedule_next()
    reconcile.reconcile_schedule_next()

    (task,) = DBTaskResult.objects.filter(task_path__endswith="reconcile_daily")
    assert task.run_after.astimezone(UTC).hour == 2 and task.run_after > datetime.now(tz=UTC)
    assert reconcile.next_daily_run(datetime(2026, 12, 1, 1, tzinfo=UTC)) == datetime(
        2026, 12, 1, 2, tzinfo=UTC
    )
    assert reconcile.next_daily_run(datetime(2026, 12, 1, 3, tzinfo=UTC)) == datetime(
        2026, 12, 2, 2, tzinfo=UTC
    )


def test_the_daily_job_reconciles_the_last_week_and_queues_tomorrows(db, runware, respx_mock):
    _answer(respx_mock, details={"data": [{"balance": 1}]}, activity={"data": [{"activity": []}]})

    assert reconcile.reconcile_scheduled() == "matched"

    run = Reconciliation.objects.get()
    assert (run.date_to - run.date_from) == timedelta(days=7) and run.started_by is None
    assert DBTaskResult.objects.filter(task_path__endswith="reconcile_daily").count() == 1


# --- against the sandbox, which answers with what it charged ----------------------------------------------


@pytest.mark.timeout(120)
def test_the_sandbox_agrees_with_the_ledger_until_the_ledger_is_adjusted(
    live_server, settings, fresh_sandbox, team, admin, member, image_asset, video_asset
):
    fast_settings(settings)
    wait_terminal(submit(member, image_asset, video_asset))
    wait_terminal(submit(member, image_asset, video_asset, numberResults=2))
    today = datetime.now(tz=UTC).date()

    first = _run(today - timedelta(days=1), today)
    assert first.status == "matched", first.detail
    assert first.theirs_total == first.ours_total == Decimal("0.0300")

    membership = Membership.objects.select_related("team", "user").get(user=admin)
    ledger.ledger_adjust(membership=membership, amount="-0.0100", note="goodwill credit")
    second = _run(today - timedelta(days=1), today)

    assert second.status == "differences"
    (differing,) = [day for day in second.days.all() if day.difference]
    assert (differing.day, differing.difference) == (today, Decimal("-0.0100"))
    assert second.balance == Decimal("999.9700")
