"""Spend reports: filters, days in the team's time zone, totals every breakdown agrees on, no verdicts yet."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from animate.models import CostEntry, Generation
from animate.services import costs
from tests.costkit import entry, in_flight
from tests.views.conftest import output_for


@pytest.fixture
def now():
    return datetime(2026, 12, 15, 12, tzinfo=UTC)


def _filters(team, now, **params):
    return costs.cost_filters_parse(team, params, now=now)


# --- filters ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "first", "last"),
    [
        ("today", date(2026, 12, 15), date(2026, 12, 15)),
        ("7d", date(2026, 12, 9), date(2026, 12, 15)),
        ("30d", date(2026, 11, 16), date(2026, 12, 15)),
        ("month", date(2026, 12, 1), date(2026, 12, 15)),
        ("last_month", date(2026, 11, 1), date(2026, 11, 30)),
    ],
)
def test_presets_are_whole_days_in_the_teams_time_zone(team, now, preset, first, last):
    team.time_zone = "America/New_York"
    date_range = costs.date_range_for(team, preset=preset, now=now)

    assert (date_range.first, date_range.last) == (first, last)
    # Local midnights, whatever the offset that day (New York leaves summer time on 1 November 2026).
    zone = team.zone
    assert (date_range.start.astimezone(zone).date(), date_range.start.astimezone(zone).hour) == (first, 0)
    assert (date_range.end.astimezone(zone).date(), date_range.end.astimezone(zone).hour) == (
        last + timedelta(days=1),
        0,
    )


def test_a_custom_range_and_every_other_filter_are_read_from_query_parameters(team, member, now):
    filters = _filters(
        team,
        now,
        range="custom",
        **{"from": "2026-10-01", "to": "2026-10-31"},
        user=str(member.pk),
        mode="replace",
        tier="720p",
        output_format="WEBM",
        kind="failed_charged",
    )

    assert (filters.range.first, filters.range.last) == (date(2026, 10, 1), date(2026, 10, 31))
    assert (filters.user_id, filters.mode, filters.tier, filters.output_format, filters.kind) == (
        member.pk,
        "replace",
        "720p",
        "WEBM",
        "failed_charged",
    )
    assert filters.query() == {
        "range": "custom",
        "from": "2026-10-01",
        "to": "2026-10-31",
        "mode": "replace",
        "tier": "720p",
        "output_format": "WEBM",
        "kind": "failed_charged",
        "user": str(member.pk),
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"range": "forever"}, "range"),
        ({"range": "custom", "from": "yesterday", "to": "2026-12-01"}, "from"),
        ({"range": "custom", "from": "2026-12-02", "to": "2026-12-01"}, "to"),
        ({"range": "custom", "from": "2024-01-01", "to": "2026-12-01"}, "to"),
        ({"mode": "dance"}, "mode"),
        ({"tier": "4k"}, "tier"),
        ({"output_format": "GIF"}, "output_format"),
        ({"kind": "refund"}, "kind"),
        ({"user": "someone"}, "user"),
    ],
)
def test_a_bad_filter_is_refused_naming_its_field(team, now, params, field):
    with pytest.raises(costs.CostFilterInvalid) as refused:
        _filters(team, now, **params)
    assert field in refused.value.problems


# --- figures ----------------------------------------------------------------------------------------------


def _day(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


def test_an_entry_counts_on_its_day_in_the_teams_time_zone(team, member, now):
    team.time_zone = "Europe/Paris"
    team.save()
    entry(team, member, "0.0100", at=datetime(2026, 12, 9, 23, 30, tzinfo=UTC))  # 10 Dec in Paris

    day = costs.cost_breakdown(_filters(team, now, range="7d"), by="day")

    amounts = {group.key: group.amount for group in day.groups}
    assert amounts["2026-12-10"] == Decimal("0.0100") and amounts["2026-12-09"] == 0
    assert len(day.groups) == 7 and day.total == Decimal("0.0100")


def test_the_summary_separates_results_failures_adjustments_and_flags(team, member, admin, now):
    entry(team, member, "0.0300", estimated="0.0200", at=_day(3))
    entry(team, member, "0.0100", estimated="0.0100", at=_day(4))
    entry(team, member, "0.2000", kind=CostEntry.Kind.FAILED_CHARGED, estimated="0.2000", at=_day(4))
    entry(
        team,
        member,
        "-0.0500",
        kind=CostEntry.Kind.ADJUSTMENT,
        estimated="0",
        recorded_by=admin,
        note="refund",
        at=_day(5),
    )
    entry(team, member, "0.5000", flagged=True, flag_reason="beyond numberResults", at=_day(5))
    entry(team, member, "9.0000", at=datetime(2026, 11, 30, 12, tzinfo=UTC))  # before the range

    summary = costs.cost_summary(_filters(team, now))

    assert summary.total == Decimal("0.6900") and summary.entries == 5
    assert (summary.results, summary.result_amount, summary.result_estimated) == (
        2,
        Decimal("0.0400"),
        Decimal("0.0300"),
    )
    assert summary.error_percent == Decimal("33.3")
    assert (summary.failed_charged, summary.failed_charged_entries) == (Decimal("0.2000"), 1)
    assert summary.adjustments == Decimal("-0.0500")
    assert (summary.flagged, summary.flagged_entries) == (Decimal("0.5000"), 1)


def test_every_breakdown_adds_up_to_the_summary_total(
    team, other_team, member, admin, outsider, image_asset, video_asset, now
):
    generation = Generation.objects.create(
        team=team, created_by=member, image=image_asset, video=video_asset, status="done"
    )
    entry(team, member, "0.0300", generation=generation, at=_day(2))
    entry(team, admin, "0.0636", mode="replace", tier="720p", output_format="WEBM", at=_day(3))
    entry(
        team, None, "0.0100", kind=CostEntry.Kind.ADJUSTMENT, mode="", tier="", output_format="", at=_day(4)
    )
    entry(other_team, outsider, "5.0000", at=_day(4))
    filters = _filters(team, now)
    total = costs.cost_summary(filters).total

    for by in ("day", "user", "mode", "tier", "output_format", "status", "kind"):
        breakdown = costs.cost_breakdown(filters, by=by)
        assert breakdown.total == total == Decimal("0.1036"), by
        assert sum(group.amount for group in breakdown.groups) == total, by
    users = costs.cost_breakdown(filters, by="user").groups
    assert [(g.label, g.amount, g.share) for g in users] == [
        ("ada", Decimal("0.0636"), Decimal("61.4")),
        ("mia", Decimal("0.0300"), Decimal("29.0")),
        ("No member (adjustments)", Decimal("0.0100"), Decimal("9.7")),
    ]
    status = {g.label: g.amount for g in costs.cost_breakdown(filters, by="status").groups}
    assert status == {"Done": Decimal("0.0300"), "No run (adjustments)": Decimal("0.0736")}


def test_filters_narrow_every_figure(team, member, admin, now):
    entry(team, member, "0.0300", at=_day(2))
    entry(team, admin, "0.0636", mode="replace", tier="720p", at=_day(3))

    filters = _filters(team, now, mode="replace")

    assert costs.cost_summary(filters).total == Decimal("0.0636")
    assert [g.label for g in costs.cost_breakdown(filters, by="user").groups] == ["ada"]
    assert costs.cost_summary(_filters(team, now, user=str(member.pk))).total == Decimal("0.0300")


def test_an_unknown_breakdown_is_refused(team, now):
    with pytest.raises(costs.CostFilterInvalid):
        costs.cost_breakdown(_filters(team, now), by="colour")


def test_spend_by_verdict_follows_each_outputs_overall_review_state(
    team, member, admin, reviewer, image_asset, video_asset, now
):
    from animate.models import Verdict

    generation = Generation.objects.create(
        team=team, created_by=member, image=image_asset, video=video_asset, status="done"
    )
    outputs = [output_for(generation) for _ in range(4)]
    for output, amount in zip(outputs, ("0.0100", "0.0200", "0.0300", "0.0400"), strict=True):
        entry(team, member, amount, generation=generation, video_uuid=output.video_uuid, at=_day(2))
    entry(team, member, "0.5000", kind=CostEntry.Kind.FAILED_CHARGED, generation=generation, at=_day(2))
    Verdict.objects.create(team=team, output=outputs[0], reviewer=reviewer, decision="approved")
    Verdict.objects.create(team=team, output=outputs[1], reviewer=reviewer, decision="rejected")
    Verdict.objects.create(team=team, output=outputs[2], reviewer=reviewer, decision="approved")
    Verdict.objects.create(team=team, output=outputs[2], reviewer=admin, decision="rejected")
    Verdict.objects.create(
        team=team, output=outputs[3], reviewer=admin, decision="approved", is_current=False
    )
    filters = _filters(team, now)

    figures = costs.review_figures(filters)
    verdicts = costs.cost_breakdown(filters, by="verdict")

    assert figures.by_state == {
        "approved": (Decimal("0.0100"), 1),
        "rejected": (Decimal("0.0200"), 1),
        "mixed": (Decimal("0.0300"), 1),
        "unreviewed": (Decimal("0.0400"), 1),  # its only verdict was replaced
    }
    assert figures.waste == Decimal("0.0200")
    assert figures.cost_per_approved == Decimal("0.6000")  # every cent of the range per approved result
    assert verdicts.available and sum(group.amount for group in verdicts.groups) == Decimal("0.1000")


def test_without_any_verdict_everything_is_unreviewed_and_no_cost_per_approved_output(team, member, now):
    entry(team, member, "0.0300", at=_day(2))

    figures = costs.review_figures(_filters(team, now))

    assert figures.by_state["unreviewed"] == (Decimal("0.0300"), 1) and figures.cost_per_approved is None


def test_review_figures_derive_waste_and_cost_per_approved_output_from_verdict_states():
    figures = costs.ReviewFigures(
        by_state={"approved": (Decimal("0.0600"), 2), "rejected": (Decimal("0.0300"), 1)},
        total=Decimal("0.1000"),
    )
    assert figures.waste == Decimal("0.0300") and figures.cost_per_approved == Decimal("0.0500")
    assert costs.ReviewFigures(by_state={}, total=Decimal("1")).cost_per_approved is None


def test_charged_results_that_never_reached_storage_are_counted(team, member, image_asset, video_asset, now):
    stored = Generation.objects.create(
        team=team, created_by=member, image=image_asset, video=video_asset, status="failed"
    )
    output = output_for(stored)
    entry(team, member, "0.0100", generation=stored, video_uuid=output.video_uuid, at=_day(2))
    entry(team, member, "0.0200", generation=stored, video_uuid=uuid.uuid4(), at=_day(2))
    entry(team, member, "0.0400", kind=CostEntry.Kind.FAILED_CHARGED, generation=stored, at=_day(2))

    assert costs.charged_no_result(_filters(team, now)) == (Decimal("0.0200"), 1)


def test_spend_to_date_and_money_held_in_flight(team, member, image_asset, video_asset):
    today = datetime.now(tz=UTC)
    entry(team, member, "0.0100")
    in_flight(team, member, image_asset, video_asset, estimate="0.0300")
    in_flight(team, member, image_asset, video_asset, estimate="0.0200")

    spend = costs.spend_to_date(team)

    assert spend.today == Decimal("0.0100") and spend.month >= spend.today
    assert costs.in_flight(team) == costs.InFlight(reserved=Decimal("0.0500"), runs=2)
    assert today.tzinfo is UTC


# --- the ledger as rows -----------------------------------------------------------------------------------


def test_csv_batches_cover_every_selected_entry_once_in_order(
    team, member, admin, image_asset, video_asset, now
):
    generation = Generation.objects.create(team=team, created_by=member, image=image_asset, video=video_asset)
    output = output_for(generation)
    first = entry(team, member, "0.0300", generation=generation, video_uuid=output.video_uuid, at=_day(2))
    entry(
        team,
        admin,
        "-0.0100",
        kind=CostEntry.Kind.ADJUSTMENT,
        recorded_by=admin,
        note="=HYPERLINK(1)",
        at=_day(3),
    )
    entry(team, admin, "0.0500", at=_day(4))
    filters = _filters(team, now)

    rows, cursor = costs.ledger_csv_batch(filters, after=None, size=2)
    more, end = costs.ledger_csv_batch(filters, after=cursor, size=2)

    assert cursor[1] == rows[-1][0] and end is None and len(rows + more) == 3
    header = costs.LEDGER_CSV_HEADER
    row = dict(zip(header, rows[0], strict=True))
    assert (
        row["entry_id"] == first.pk
        and row["amount_usd"] == Decimal("0.0300")
        and row["local_date"] == "2026-12-02"
    )
    assert row["task_uuid"] == str(generation.task_uuid) and row["output_id"] == output.pk
    assert row["member"] == "mia" and row["flagged"] == "no"
    assert (
        sum(Decimal(r[header.index("amount_usd")]) for r in rows + more) == costs.cost_summary(filters).total
    )


def test_the_daily_sums_equal_the_ledger_and_follow_a_change_of_time_zone(team, admin, member, now):
    from animate.models import CostDay, Membership
    from animate.services import teams

    late = datetime(2026, 12, 9, 23, 30, tzinfo=UTC)  # the 10th in Paris
    entry(team, member, "0.0100", at=late)
    entry(team, member, "0.0200", at=late)
    entry(team, None, "-0.0050", kind=CostEntry.Kind.ADJUSTMENT, at=_day(3))
    assert list(CostDay.objects.values_list("day", "amount", "entries", "has_run").order_by("day")) == [
        (date(2026, 12, 3), Decimal("-0.0050"), 1, False),
        (date(2026, 12, 9), Decimal("0.0300"), 2, False),
    ]

    teams.team_settings_update(admin=Membership.objects.get(user=admin), time_zone="Europe/Paris")

    assert list(CostDay.objects.values_list("day", "amount", "entries").order_by("day")) == [
        (date(2026, 12, 3), Decimal("-0.0050"), 1),
        (date(2026, 12, 10), Decimal("0.0300"), 2),
    ]
    team.refresh_from_db()
    day = costs.cost_breakdown(_filters(team, now, range="7d"), by="day")
    assert {group.key: group.amount for group in day.groups}["2026-12-10"] == Decimal("0.0300")
