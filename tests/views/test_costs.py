"""The admin's cost pages: dashboard with charts and tables, CSV, budgets, adjustments, reconciliation; only
the team's admins get in."""

import csv
import io
import re
import warnings
from decimal import Decimal

import pytest
from django.urls import reverse

from animate.models import AuditEvent, Budget, CostEntry, Reconciliation
from tests.costkit import entry

ADMIN_PAGES = [
    ("get", "/costs/"),
    ("get", "/costs/export.csv"),
    ("get", "/costs/budgets/"),
    ("post", "/costs/budgets/"),
    ("post", "/costs/adjustments/"),
    ("get", "/costs/reconciliation/"),
    ("post", "/costs/reconciliation/"),
    ("get", "/deliveries/"),
    ("get", "/deliveries/1/"),
    ("post", "/deliveries/1/replay/"),
    ("get", "/audit/"),
    ("get", "/audit/export.csv"),
    ("get", "/team/"),
    ("post", "/team/members/"),
    ("post", "/team/members/1/"),
    ("post", "/team/members/1/remove/"),
    ("post", "/team/invites/"),
    ("post", "/team/invites/1/revoke/"),
    ("post", "/team/settings/"),
]


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def csv_rows(response) -> list[dict[str, str]]:
    with warnings.catch_warnings():
        # The body is an async iterator (for ASGI); the sync test client reads it whole, with a warning.
        warnings.simplefilter("ignore")
        data = b"".join(response)
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize(("method", "url"), ADMIN_PAGES)
@pytest.mark.parametrize("who", ["member", "reviewer"])
def test_members_and_reviewers_get_403_on_every_admin_page(client, request, admin, who, method, url):
    user = request.getfixturevalue(who)
    client.force_login(user)

    response = getattr(client, method)(url)

    assert response.status_code == 403
    assert b"Only team admins can open this page" in response.content
    assert (
        not Budget.objects.exists() and not CostEntry.objects.exists() and not Reconciliation.objects.exists()
    )


@pytest.mark.parametrize(("method", "url"), ADMIN_PAGES[:3])
def test_admin_pages_need_a_login(client, db, method, url):
    assert getattr(client, method)(url)["Location"].startswith("/accounts/login/")


def test_the_header_shows_costs_and_team_to_admins_only(admin_client, client, member):
    html = admin_client.get("/").content.decode()
    assert 'href="/costs/"' in html and 'href="/team/"' in html
    client.force_login(member)
    html = client.get("/").content.decode()
    assert 'href="/costs/"' not in html and 'href="/team/"' not in html


# --- the dashboard ----------------------------------------------------------------------------------------


def test_the_dashboard_shows_totals_charts_with_text_and_tables_that_agree(admin_client, team, admin, member):
    entry(team, member, "0.0300")
    entry(team, admin, "0.0636", mode="replace", tier="720p", output_format="WEBM", estimated="0.0600")
    entry(team, member, "0.2000", kind="failed_charged")

    response = admin_client.get(reverse("costs"))

    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'id="kpi-total">\$0\.2936<', html) and re.search(r'id="kpi-month">\$0\.2936<', html)
    assert re.search(r'id="kpi-failed">\$0\.2000<', html)
    assert re.search(r'id="kpi-error">4\.0%<', html)  # $0.0936 charged for $0.0900 estimated
    # Charts are SVG drawn here, each with its sentence, and a table of the same numbers.
    assert html.count("<svg") == 7 and "cdn" not in html.lower()  # one over time, six of shares
    assert 'aria-label="Spend per day, ' in html and "total $0.2936" in html
    assert 'aria-label="Spend by member, shares of $0.2936: mia 78.3%, ada 21.7%.' in html
    assert html.count("data-total>$0.2936<") == 7
    # Verdict figures come from the review surface: nothing is reviewed yet, so nothing is approved.
    assert re.search(r'id="kpi-per-approved">—<', html) and "No approved result in this range yet" in html
    assert re.search(r'id="kpi-waste">\$0\.0000<', html)
    assert 'id="verdicts-unavailable"' not in html and 'data-group="unreviewed"' in html
    assert "data-total>$0.0936<" in html  # the verdict table counts results only


def test_the_dashboard_refuses_bad_filters_by_name_and_shows_this_month(admin_client, team, member):
    entry(team, member, "0.0300")

    html = admin_client.get(
        reverse("costs"), {"range": "custom", "from": "junk", "to": "2026-01-01"}
    ).content.decode()

    assert "Enter a date as YYYY-MM-DD." in html and "Showing this month instead." in html
    assert re.search(r'id="kpi-total">\$0\.0300<', html)


def test_the_dashboard_runs_a_bounded_number_of_queries(
    admin_client, team, member, django_assert_max_num_queries
):
    for _ in range(30):
        entry(team, member, "0.0100")
    with django_assert_max_num_queries(40):
        assert admin_client.get(reverse("costs")).status_code == 200


def test_another_teams_spend_never_shows(admin_client, other_team, outsider):
    entry(other_team, outsider, "9.9900")
    html = admin_client.get(reverse("costs")).content.decode()
    assert "9.9900" not in html and "oscar" not in html


# --- the CSV ----------------------------------------------------------------------------------------------


def test_the_csv_has_one_row_per_entry_and_the_pages_total(admin_client, team, admin, member):
    entry(team, member, "0.0300")
    entry(team, admin, "0.0636", mode="replace")
    entry(team, admin, "-0.0100", kind="adjustment", note="=cmd|' /C calc'!A0", recorded_by=admin)

    page = admin_client.get(reverse("costs")).content.decode()
    rows = csv_rows(admin_client.get(reverse("costs-export")))

    total = re.search(r'id="kpi-total">\$([0-9.]+)<', page).group(1)
    assert len(rows) == 3 and sum(Decimal(row["amount_usd"]) for row in rows) == Decimal(total) == Decimal(
        "0.0836"
    )
    assert rows[2]["note"].startswith("'=")  # a spreadsheet will not run it
    filtered = csv_rows(admin_client.get(reverse("costs-export"), {"mode": "replace"}))
    assert [row["amount_usd"] for row in filtered] == ["0.0636"]


def test_the_csv_refuses_bad_filters(admin_client):
    assert admin_client.get(reverse("costs-export"), {"kind": "bogus"}).status_code == 400


def test_the_export_link_carries_the_pages_filters(admin_client, team):
    html = admin_client.get(reverse("costs"), {"range": "7d", "mode": "animate"}).content.decode()
    assert 'href="/costs/export.csv?range=7d&amp;mode=animate"' in html


# --- budgets ----------------------------------------------------------------------------------------------


def test_an_admin_sets_the_team_budget_and_a_member_cap(admin_client, team, member):
    assert admin_client.post(reverse("costs-budgets"), {"monthly_limit": "250"}).status_code == 302
    response = admin_client.post(
        reverse("costs-budgets"), {"user": str(member.pk), "monthly_limit": "20", "next": "/team/"}
    )

    assert response["Location"] == "/team/"
    assert {(b.user_id, b.monthly_limit) for b in Budget.objects.all()} == {
        (None, Decimal("250")),
        (member.pk, Decimal("20")),
    }
    html = admin_client.get(reverse("costs-budgets")).content.decode()
    assert 'value="250.0000"' in html and "$20.0000" in html


def test_a_bad_budget_is_shown_next_to_its_field(admin_client):
    response = admin_client.post(reverse("costs-budgets"), {"monthly_limit": "a lot"})

    assert response.status_code == 400 and not Budget.objects.exists()
    assert 'id="team-limit-error">Enter an amount in USD' in response.content.decode()


def test_an_unsafe_next_is_ignored(admin_client):
    response = admin_client.post(
        reverse("costs-budgets"), {"monthly_limit": "1", "next": "https://evil.example.com/"}
    )
    assert response["Location"] == reverse("costs-budgets")


# --- adjustments and reconciliation -----------------------------------------------------------------------


def test_an_admin_records_an_adjustment_and_a_bad_one_is_explained(admin_client, admin):
    admin_client.post(reverse("costs-adjust"), {"amount": "-0.5", "note": "credit from support"})
    bad = admin_client.post(reverse("costs-adjust"), {"amount": "x", "note": ""}, follow=True)

    (row,) = CostEntry.objects.all()
    assert (row.kind, row.amount, row.recorded_by_id) == ("adjustment", Decimal("-0.5000"), admin.pk)
    html = bad.content.decode()
    assert "amount: Enter an amount in USD" in html and "note: Say why" in html


def test_the_reconcile_button_starts_a_run_and_the_page_follows_it(admin_client, admin):
    response = admin_client.post(reverse("costs-reconciliation"), {"from": "", "to": ""})

    run = Reconciliation.objects.get()
    assert response["Location"] == f"/costs/reconciliation/?run={run.pk}"
    html = admin_client.get(response["Location"]).content.decode()
    assert (
        'data-status="running"' in html and f'data-status-url="/api/costs/reconciliations/{run.pk}/"' in html
    )
    assert AuditEvent.objects.filter(action="reconciled", actor=admin).exists()


def test_a_finished_run_lists_each_day_and_its_difference(admin_client):
    from datetime import date

    from animate.models import ReconciliationDay

    run = Reconciliation.objects.create(
        date_from=date(2026, 12, 1), date_to=date(2026, 12, 1), status="differences", balance=Decimal("5")
    )
    ReconciliationDay.objects.create(
        reconciliation=run,
        day=date(2026, 12, 1),
        ours=Decimal("0.05"),
        theirs=Decimal("0.03"),
        difference=Decimal("0.02"),
    )

    html = admin_client.get(reverse("costs-reconciliation"), {"run": run.pk}).content.decode()

    assert 'class="is-different" data-day="2026-12-01"' in html and "<strong>$0.0200</strong>" in html
    assert 'id="balance">$5.0000<' in html


def test_a_bad_reconciliation_range_is_shown(admin_client):
    response = admin_client.post(reverse("costs-reconciliation"), {"from": "2026-12-05", "to": "2026-12-01"})
    assert response.status_code == 400 and b"The end date is before the start date." in response.content
