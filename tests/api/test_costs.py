"""Money over the API: summary with group-by, ledger (JSON and CSV), adjustments, budgets, alerts,
reconciliations — for the team's admins only, every error in the one shape."""

import csv
import io
from decimal import Decimal

import pytest

from animate.models import Budget, Membership, Reconciliation, SpendAlert
from animate.services import budgets
from tests.api.conftest import api_client
from tests.costkit import entry

ENDPOINTS = [
    ("get", "/api/costs/summary/"),
    ("get", "/api/costs/ledger/"),
    ("get", "/api/costs/ledger.csv"),
    ("post", "/api/costs/adjustments/"),
    ("get", "/api/costs/budgets/"),
    ("put", "/api/costs/budgets/"),
    ("get", "/api/costs/alerts/"),
    ("get", "/api/costs/reconciliations/"),
    ("post", "/api/costs/reconciliations/"),
    ("get", "/api/costs/reconciliations/1/"),
    ("get", "/api/deliveries/"),
    ("get", "/api/deliveries/rejections/"),
    ("get", "/api/deliveries/1/"),
    ("post", "/api/deliveries/1/replay/"),
    ("get", "/api/audit/"),
    ("get", "/api/audit.csv"),
    ("put", "/api/team/settings/"),
    ("get", "/api/team/members/"),
    ("post", "/api/team/members/"),
    ("patch", "/api/team/members/1/"),
    ("delete", "/api/team/members/1/"),
    ("get", "/api/team/invites/"),
    ("post", "/api/team/invites/"),
    ("delete", "/api/team/invites/1/"),
]


@pytest.fixture
def admin_api(owner):
    return api_client(owner)


def _rows(response) -> list[dict[str, str]]:
    data = b"".join(response)
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
@pytest.mark.parametrize("who", ["creator", "reviewer"])
def test_members_and_reviewers_get_403_on_every_admin_endpoint(request, who, method, url):
    client = api_client(request.getfixturevalue(who))

    response = getattr(client, method)(url, {}, format="json")

    assert response.status_code == 403
    assert response.json() == {"errors": {"detail": ["Only team admins can do this."]}}


def test_an_anonymous_client_is_told_to_authenticate(db):
    response = api_client().get("/api/costs/summary/")
    assert response.status_code == 401 and "detail" in response.json()["errors"]


def test_the_x_team_header_decides_whose_money_it_is(owner, other_team, team, creator):
    Membership.objects.create(user=owner, team=other_team, role="member")
    entry(team, creator, "0.0300")
    client = api_client(owner)

    assert client.get("/api/costs/summary/").json()["total"] == "0.0300"
    assert client.get("/api/costs/summary/", HTTP_X_TEAM=str(other_team.pk)).status_code == 403


# --- summary ---------------------------------------------------------------------------------------------


def test_the_summary_totals_and_groups_agree_and_verdicts_are_unavailable(admin_api, team, owner, creator):
    entry(team, creator, "0.0300")
    entry(team, owner, "0.0636", mode="replace", tier="720p", estimated="0.0600")
    entry(team, creator, "0.2000", kind="failed_charged")

    body = admin_api.get("/api/costs/summary/", {"group_by": "day,user,mode,kind,verdict"}).json()

    assert (body["currency"], body["total"], body["entries"]) == ("USD", "0.2936", 3)
    assert body["failed_charged"] == {"amount": "0.2000", "count": 1}
    assert body["error_percent"] == "4.0" and body["this_month"] == "0.2936"
    assert body["verdicts_available"] is True and body["cost_per_approved_output"] is None  # none approved
    assert body["waste"] == "0.0000"
    assert [(g["key"], g["amount"]) for g in body["groups"]["verdict"]] == [
        ("approved", "0.0000"),
        ("rejected", "0.0000"),
        ("mixed", "0.0000"),
        ("unreviewed", "0.0936"),
    ]
    for name in ("day", "user", "mode", "kind"):
        assert sum(Decimal(group["amount"]) for group in body["groups"][name]) == Decimal(body["total"]), name
    assert [(g["label"], g["amount"], g["share"]) for g in body["groups"]["user"]] == [
        ("creator", "0.2300", "78.3"),
        ("owner", "0.0636", "21.7"),
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "colour"}, "group_by"),
        ({"range": "custom", "from": "x", "to": "y"}, "from"),
        ({"tier": "8k"}, "tier"),
    ],
)
def test_bad_summary_parameters_are_400_naming_the_field(admin_api, params, field):
    response = admin_api.get("/api/costs/summary/", params)
    assert response.status_code == 400 and field in response.json()["errors"]


# --- ledger -----------------------------------------------------------------------------------------------


def test_the_ledger_lists_entries_newest_first_and_the_csv_has_the_same_total(
    admin_api, team, owner, creator
):
    for amount in ("0.0100", "0.0200", "0.0300"):
        entry(team, creator, amount)

    page = admin_api.get("/api/costs/ledger/", {"page_size": 2}).json()
    csv_rows = _rows(admin_api.get("/api/costs/ledger.csv"))
    total = admin_api.get("/api/costs/summary/").json()["total"]

    assert page["count"] == 3 and [row["amount"] for row in page["results"]] == ["0.0300", "0.0200"]
    assert page["results"][0]["user"] == "creator" and page["results"][0]["currency"] == "USD"
    assert sum(Decimal(row["amount_usd"]) for row in csv_rows) == Decimal(total) == Decimal("0.0600")


def test_an_adjustment_is_recorded_and_a_bad_one_is_400_naming_fields(admin_api, owner, creator):
    created = admin_api.post(
        "/api/costs/adjustments/", {"amount": "-0.5", "note": "credit", "user": creator.pk}, format="json"
    )
    bad = admin_api.post("/api/costs/adjustments/", {"amount": "0", "note": "why"}, format="json")
    blank = admin_api.post("/api/costs/adjustments/", {"amount": "1", "note": " "}, format="json")

    assert created.status_code == 201
    assert (created.json()["kind"], created.json()["amount"], created.json()["recorded_by"]) == (
        "adjustment",
        "-0.5000",
        "owner",
    )
    assert bad.status_code == 400 and bad.json()["errors"] == {
        "amount": ["An adjustment of 0 changes nothing."]
    }
    assert blank.status_code == 400 and set(blank.json()["errors"]) == {"note"}


# --- budgets and alerts -----------------------------------------------------------------------------------


def test_budgets_are_set_read_and_removed(admin_api, team, creator):
    team_budget = admin_api.put("/api/costs/budgets/", {"monthly_limit": "100"}, format="json")
    cap = admin_api.put("/api/costs/budgets/", {"user": creator.pk, "monthly_limit": "10"}, format="json")

    assert team_budget.status_code == 200
    assert [
        (row["scope"], row["username"], row["monthly_limit"], row["remaining"]) for row in cap.json()
    ] == [
        ("team", "", "100.0000", "100.0000"),
        ("member", "creator", "10.0000", "10.0000"),
    ]
    admin_api.put("/api/costs/budgets/", {"monthly_limit": None}, format="json")
    assert list(Budget.objects.values_list("user_id", flat=True)) == [creator.pk]


def test_a_bad_budget_is_400_naming_the_field(admin_api, outsider):
    assert admin_api.put("/api/costs/budgets/", {"monthly_limit": "-3"}, format="json").json() == {
        "errors": {"monthly_limit": ["Enter an amount of 0 or more."]}
    }
    assert (
        "user"
        in admin_api.put(
            "/api/costs/budgets/", {"user": outsider.pk, "monthly_limit": "1"}, format="json"
        ).json()["errors"]
    )


def test_alerts_are_listed_newest_first(admin_api, team, owner, creator):
    entry(team, creator, "0.9000")
    budgets.budget_set(
        membership=Membership.objects.get(user=owner), user_id=None, monthly_limit="1", actor=owner
    )

    body = admin_api.get("/api/costs/alerts/").json()

    assert [row["threshold"] for row in body["results"]] == [80, 50]
    assert body["results"][0]["kind"] == "team_budget" and body["results"][0]["spent"] == "0.9000"
    assert SpendAlert.objects.count() == 2


# --- reconciliation ---------------------------------------------------------------------------------------


def test_a_reconciliation_is_started_and_read_back(admin_api):
    started = admin_api.post("/api/costs/reconciliations/", {}, format="json")

    assert started.status_code == 202 and started.json()["status"] == "running"
    run_id = started.json()["id"]
    assert admin_api.get(f"/api/costs/reconciliations/{run_id}/").json()["id"] == run_id
    assert admin_api.get("/api/costs/reconciliations/").json()["count"] == 1
    assert admin_api.get("/api/costs/reconciliations/999/").status_code == 404
    bad = admin_api.post(
        "/api/costs/reconciliations/", {"date_from": "2026-12-05", "date_to": "2026-12-01"}, format="json"
    )
    assert bad.status_code == 400 and "date_to" in bad.json()["errors"]
    assert Reconciliation.objects.count() == 1
