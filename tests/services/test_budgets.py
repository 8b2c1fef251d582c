"""Budgets: months in the team's time zone, reservations at submit, release on charge, alerts once."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django_tasks_db.models import DBTaskResult

from animate import tasks
from animate.models import AuditEvent, Budget, Generation, Membership, Notification, SpendAlert
from animate.runware.spec import VideoResult
from animate.services import budgets, ingest
from animate.services.generations import GenerationRejected, generation_create, generation_transition
from tests.costkit import entry, in_flight


def _membership(user):
    return Membership.objects.select_related("team", "user").get(user=user)


def _set(admin, limit, user=None):
    return budgets.budget_set(
        membership=_membership(admin), user_id=user.pk if user else None, monthly_limit=limit, actor=admin
    )


def _submit(user, image, video, **choices):
    choices.setdefault("resolution", "480p")
    return generation_create(membership=_membership(user), image=image, video=video, choices=choices)


def _result(generation, cost="0.0100", video_uuid="11111111-1111-4111-8111-111111111111"):
    return VideoResult(
        task_type="videoInference",
        task_uuid=str(generation.task_uuid),
        status="success",
        video_uuid=video_uuid,
        video_url="https://im.runware.ai/video/result.mp4",
        video_base64_data=None,
        video_data_uri=None,
        seed=1,
        nsfw_content=False,
        cost=Decimal(cost),
        error_code=None,
        error_message=None,
        raw={},
    )


# --- periods -----------------------------------------------------------------------------------------


def test_a_month_starts_at_midnight_of_the_first_in_the_teams_time_zone(team):
    team.time_zone = "Pacific/Auckland"
    # 30 Nov 2026 12:00 UTC is already 1 December in Auckland (UTC+13).
    period = budgets.month_period(team, now=datetime(2026, 11, 30, 12, tzinfo=UTC))

    assert period.start.isoformat() == "2026-12-01T00:00:00+13:00"
    assert period.end.isoformat() == "2027-01-01T00:00:00+13:00"
    assert period.first_day.isoformat() == "2026-12-01"


def test_december_rolls_over_to_january_of_the_next_year(team):
    period = budgets.month_period(team, now=datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    assert (period.start.month, period.end.year, period.end.month) == (12, 2027, 1)


# --- what a cap counts ---------------------------------------------------------------------------------


def test_a_cap_counts_this_months_ledger_and_the_runs_in_flight_only(
    team, other_team, admin, member, outsider, image_asset, video_asset
):
    _set(admin, "1.00")
    now = datetime.now(tz=UTC)
    entry(team, member, "0.2000")
    entry(team, admin, "0.1000")
    entry(team, member, "5.0000", at=now - timedelta(days=40))  # last month
    entry(other_team, outsider, "9.0000")  # another team
    in_flight(team, member, image_asset, video_asset, estimate="0.0300")
    finished = in_flight(team, member, image_asset, video_asset, estimate="0.0500", status="done")
    Generation.objects.filter(pk=finished.pk).update(reserved_cost=0)

    (status,) = budgets.budget_statuses(team=team, user_id=member.pk)

    assert (status.scope, status.limit, status.spent, status.reserved) == (
        "team",
        Decimal("1.0000"),
        Decimal("0.3000"),
        Decimal("0.0300"),
    )
    assert status.remaining == Decimal("0.6700")


def test_a_member_cap_counts_only_that_members_spend(team, admin, member, image_asset, video_asset):
    _set(admin, "0.50", user=member)
    entry(team, member, "0.1000")
    entry(team, admin, "0.3000")
    in_flight(team, admin, image_asset, video_asset, estimate="0.0700")

    (status,) = budgets.budget_statuses(team=team, user_id=member.pk)

    assert (status.scope, status.spent, status.reserved, status.remaining) == (
        "member",
        Decimal("0.1000"),
        Decimal("0.0000"),
        Decimal("0.4000"),
    )
    assert budgets.budget_statuses(team=team, user_id=admin.pk) == []


# --- reserving at submit ----------------------------------------------------------------------------------


def test_a_submit_reserves_its_quote_and_audits_it(team, admin, member, image_asset, video_asset):
    _set(admin, "1.00")

    generation = _submit(member, image_asset, video_asset)

    assert generation.estimated_cost == Decimal("0.0100") and generation.reserved_cost == Decimal("0.0100")
    audit = AuditEvent.objects.get(action="generation_submitted")
    assert (audit.actor_id, audit.target_id, audit.detail["estimate"]) == (
        member.pk,
        str(generation.pk),
        "0.0100",
    )


def test_a_run_that_exactly_fits_is_accepted_and_the_next_is_refused_with_what_remains(
    team, admin, member, image_asset, video_asset
):
    _set(admin, "0.02")
    _submit(member, image_asset, video_asset)
    _submit(member, image_asset, video_asset)

    with pytest.raises(GenerationRejected) as refused:
        _submit(member, image_asset, video_asset)

    message = refused.value.problems["budget"]
    assert "this run costs $0.0100" in message and "has $0.0000 left of $0.0200" in message
    assert "$0.0200 held by runs in flight" in message and "It resets on 1 " in message and "(UTC)" in message
    assert Generation.objects.count() == 2
    assert DBTaskResult.objects.filter(task_path__endswith="submit_generation").count() == 2


def test_an_over_cap_submit_by_a_member_is_refused_while_the_team_budget_has_room(
    team, admin, member, image_asset, video_asset
):
    _set(admin, "10.00")
    _set(admin, "0.0150", user=member)
    _submit(member, image_asset, video_asset)

    with pytest.raises(GenerationRejected) as refused:
        _submit(member, image_asset, video_asset)

    assert "your monthly cap has $0.0050 left of $0.0150" in refused.value.problems["budget"]
    _submit(admin, image_asset, video_asset)  # the admin has no cap of their own


def test_without_any_budget_nothing_is_capped(team, member, image_asset, video_asset):
    for _ in range(3):
        _submit(member, image_asset, video_asset)
    assert Generation.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_reserving_outside_a_transaction_is_a_programming_error(team, member):
    with pytest.raises(RuntimeError):
        budgets.budget_reserve(membership=_membership(member), amount=Decimal("0.01"))


# --- releasing the reservation ----------------------------------------------------------------------------


def test_a_charge_releases_the_reservation_to_the_actual_amount(
    team, member, image_asset, video_asset, monkeypatch
):
    generation = _submit(member, image_asset, video_asset, numberResults=2)
    assert generation.reserved_cost == Decimal("0.0200")
    monkeypatch.setattr(ingest, "download_provider_file", _refuse_download)

    with pytest.raises(ingest.DownloadFailed):
        ingest.results_apply(generation_id=generation.pk, results=[_result(generation, cost="0.0080")])

    generation.refresh_from_db()
    assert generation.actual_cost == Decimal("0.0080") and generation.reserved_cost == Decimal("0.0120")


def _refuse_download(**kwargs):
    raise ingest.DownloadFailed("not now")


def test_a_run_that_ends_holds_nothing_even_when_runware_charged_nothing(
    team, member, image_asset, video_asset
):
    from django.db import transaction

    generation = _submit(member, image_asset, video_asset)
    with transaction.atomic():
        locked = Generation.objects.select_for_update().get(pk=generation.pk)
        generation_transition(locked, "failed", error_code="inferenceError", error_message="no")

    generation.refresh_from_db()
    assert generation.reserved_cost == 0 and generation.actual_cost is None


def test_a_charge_larger_than_the_estimate_holds_nothing_more(
    team, member, image_asset, video_asset, monkeypatch
):
    generation = _submit(member, image_asset, video_asset)
    monkeypatch.setattr(ingest, "download_provider_file", _refuse_download)

    with pytest.raises(ingest.DownloadFailed):
        ingest.results_apply(generation_id=generation.pk, results=[_result(generation, cost="0.0500")])

    generation.refresh_from_db()
    assert generation.reserved_cost == 0 and generation.actual_cost == Decimal("0.0500")


# --- setting budgets --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("lots", "Enter an amount in USD"),
        ("-1", "0 or more"),
        ("1.00001", "4 decimal places"),
        ("NaN", "0 or more"),
        ("100000000", "below 100 000 000"),
    ],
)
def test_a_limit_that_is_not_an_amount_is_refused_naming_the_field(team, admin, value, message):
    with pytest.raises(budgets.BudgetInvalid) as refused:
        _set(admin, value)
    assert message in refused.value.problems["monthly_limit"]
    assert not Budget.objects.exists()


def test_setting_changing_and_removing_a_budget_is_audited_each_time(team, admin):
    _set(admin, "5")
    _set(admin, "7.5")
    _set(admin, "7.50")  # the same amount: nothing to record
    _set(admin, "")

    assert not Budget.objects.exists()
    changes = [
        (e.detail["from"], e.detail["to"])
        for e in AuditEvent.objects.filter(action="budget_changed").order_by("pk")
    ]
    assert changes == [(None, "5.0000"), ("5.0000", "7.5000"), ("7.5000", None)]


def test_only_admins_set_budgets_and_only_for_members_of_their_team(team, admin, member, outsider):
    with pytest.raises(PermissionError):
        budgets.budget_set(membership=_membership(member), user_id=None, monthly_limit="1", actor=member)
    with pytest.raises(budgets.BudgetInvalid) as refused:
        _set(admin, "1", user=outsider)
    assert refused.value.problems == {"user": "No such member in your team."}


# --- alerts -----------------------------------------------------------------------------------------------


def test_alerts_fire_at_50_80_and_100_percent_once_each_and_tell_every_admin(
    team, admin, member, django_user_model, django_capture_on_commit_callbacks
):
    second = django_user_model.objects.create_user(username="bea", password="x", email="bea@example.com")
    Membership.objects.create(user=second, team=team, role="admin")
    admin.email = "ada@example.com"
    admin.save()
    _set(admin, "1.00")

    for amount in ("0.4000", "0.2000", "0.1000", "0.2000", "0.2000"):
        entry(team, member, amount)
        budgets.budget_alerts_check(team=team.pk, user_id=member.pk)

    assert sorted(SpendAlert.objects.values_list("threshold", flat=True)) == [50, 80, 100]
    assert (
        Notification.objects.filter(user=admin).count() == 3
        and Notification.objects.filter(user=second).count() == 3
    )
    titles = list(Notification.objects.filter(user=admin).order_by("pk").values_list("title", flat=True))
    assert titles == [f"The team's monthly budget is at {t}%" for t in (50, 80, 100)]
    emails = DBTaskResult.objects.filter(task_path__endswith="send_email").order_by("enqueued_at")
    assert emails.count() == 3
    args = emails.first().args_kwargs["args"]
    tasks.send_email.func(*args)
    assert mail.outbox[0].to == ["ada@example.com", "bea@example.com"]
    assert "50%" in mail.outbox[0].subject and "/costs/" in mail.outbox[0].body


def test_alert_history_survives_the_monthly_reset_and_the_next_month_alerts_again(team, admin, member):
    _set(admin, "1.00")
    entry(team, member, "0.6000")
    budgets.budget_alerts_check(team=team.pk, user_id=member.pk)
    next_month = datetime.now(tz=UTC) + timedelta(days=35)
    entry(team, member, "0.6000", at=next_month)

    from tests.costkit import frozen

    with frozen(next_month):
        budgets.budget_alerts_check(team=team.pk, user_id=member.pk)

    periods = sorted(SpendAlert.objects.values_list("period_start", "threshold"))
    assert len(periods) == 2 and periods[0][0] < periods[1][0] and {t for _, t in periods} == {50}


def test_a_member_cap_alerts_with_the_members_name(team, admin, member):
    _set(admin, "0.10", user=member)
    entry(team, member, "0.0800")

    alerts = budgets.budget_alerts_check(team=team.pk, user_id=member.pk)

    assert [(a.kind, a.threshold, a.user_id) for a in alerts] == [
        ("member_budget", 50, member.pk),
        ("member_budget", 80, member.pk),
    ]
    assert Notification.objects.filter(title="mia's monthly cap is at 80%").exists()


def test_lowering_a_cap_below_this_months_spend_alerts_at_once(team, admin, member):
    entry(team, member, "0.5000")
    _set(admin, "0.40")

    assert sorted(SpendAlert.objects.values_list("threshold", flat=True)) == [50, 80, 100]


def test_a_charge_recorded_by_ingestion_checks_the_alerts(
    team, admin, member, image_asset, video_asset, monkeypatch
):
    _set(admin, "0.01")
    generation = _submit(member, image_asset, video_asset)
    monkeypatch.setattr(ingest, "download_provider_file", _refuse_download)

    with pytest.raises(ingest.DownloadFailed):
        ingest.results_apply(generation_id=generation.pk, results=[_result(generation)])

    assert SpendAlert.objects.filter(threshold=100).exists()


# --- headroom beside the quote ----------------------------------------------------------------------------


def test_the_headroom_is_the_tightest_cap_after_this_run(team, admin, member):
    _set(admin, "1.00")
    _set(admin, "0.05", user=member)
    entry(team, member, "0.0200")

    headroom = budgets.budget_headroom(membership=_membership(member), amount=Decimal("0.0400"))

    data = headroom.as_dict()
    assert (data["scope"], data["remaining"], data["remaining_after"], data["fits"]) == (
        "member",
        "0.0300",
        "-0.0100",
        False,
    )
    assert "your monthly cap has $0.0300 left" in data["message"]
    assert (
        budgets.budget_headroom(membership=_membership(admin), amount=Decimal("0.04")).as_dict()["fits"]
        is True
    )


def test_nothing_caps_a_member_without_budgets(team, member):
    assert budgets.budget_headroom(membership=_membership(member), amount=Decimal("1")) is None
