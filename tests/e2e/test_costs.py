"""The admin's cost auditing in a real browser: the dashboard, a range change, charts with text, the CSV, a
budget that then refuses a member's run with what remains — and 403 for members and reviewers on every
admin page and endpoint. Every admin page is screenshotted at both widths, checked for labels and fit."""

import csv
import io
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from animate.models import Generation, Reconciliation, WebhookEvent
from animate.samples import make_character_png, make_driving_video
from tests.e2e.test_pages import OVERFLOW, UNLABELLED, VIEWPORTS
from tests.livehelpers import browser_login, fast_settings, submit, wait_terminal

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ADMIN_PAGES = [
    ("costs", "/costs/"),
    ("costs-budgets", "/costs/budgets/"),
    ("costs-reconciliation", "/costs/reconciliation/"),
    ("deliveries", "/deliveries/"),
    ("audit", "/audit/"),
    ("team", "/team/"),
]
ADMIN_API = [
    "/api/costs/summary/",
    "/api/costs/ledger/",
    "/api/costs/ledger.csv",
    "/api/costs/budgets/",
    "/api/costs/alerts/",
    "/api/costs/reconciliations/",
    "/api/deliveries/",
    "/api/deliveries/rejections/",
    "/api/audit/",
    "/api/audit.csv",
    "/api/team/members/",
    "/api/team/invites/",
]


def _watch(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return errors


def _check(page, artifacts, name, width, height, problems, errors):
    page.screenshot(path=str(artifacts / f"{name}-{width}x{height}.png"), full_page=True)
    where = f"{name} at {width}x{height}"
    problems.extend(f"{where}: {error}" for error in errors)
    errors.clear()
    problems.extend(f"{where}: unlabelled {html}" for html in page.evaluate(UNLABELLED))
    if width < 500:
        fit = page.evaluate(OVERFLOW)
        if fit["scrollWidth"] > fit["innerWidth"] + 1:
            problems.append(f"{where}: scrolls sideways ({fit['scrollWidth']} px): {fit['wide']}")


@pytest.fixture
def spent(live_server, settings, admin, member, image_asset, video_asset):
    """Money already spent this month: three runs of $0.01 (one of them two results) and a failure."""
    fast_settings(settings)
    runs = [
        submit(member, image_asset, video_asset),
        submit(admin, image_asset, video_asset, numberResults=2),
        submit(member, image_asset, video_asset, positivePrompt="x [sandbox:error=inferenceError]"),
    ]
    for run in runs:
        wait_terminal(run)
    assert [run.status for run in Generation.objects.order_by("pk")] == ["done", "done", "failed"]
    return Decimal("0.0300")


@pytest.fixture
def fresh_sandbox(monkeypatch):
    """A sandbox that has charged nothing yet, so reconciling against it matches this test's ledger."""
    from animate.runware.sandbox import engine

    monkeypatch.setattr(engine, "_instance", engine.Sandbox(workers=2))


def test_an_admin_audits_costs_sets_a_budget_and_a_members_run_is_refused(
    live_server, browser, artifacts, fresh_sandbox, spent, admin, member, reviewer, tmp_path
):
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    errors = _watch(page)
    browser_login(page, live_server.url, "ada", "pw-ada")

    # The dashboard: this month's figures, a chart over time and charts of shares, each with its words.
    page.get_by_role("link", name="Costs", exact=True).first.click()
    expect(page.locator("#kpi-total")).to_have_text(f"${spent}")
    assert page.locator("svg.chart-svg rect.chart-bar").count() >= 1
    assert page.locator("svg.share-svg").count() == 6
    label = page.locator("svg.chart-svg").get_attribute("aria-label")
    assert label.startswith("Spend per day") and f"total ${spent}" in label
    expect(page.locator("#kpi-per-approved")).to_have_text("—")  # nothing approved yet
    expect(page.locator("#breakdown-user tbody tr")).to_have_count(2)

    # A range change: a custom range shows its date fields; today alone still holds everything.
    page.get_by_label("Range", exact=True).select_option("custom")
    expect(page.get_by_label("From", exact=True)).to_be_visible()
    page.get_by_label("Range", exact=True).select_option("today")
    page.get_by_label("Member", exact=True).select_option(label="mia")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"range=today"))
    expect(page.locator("#kpi-total")).to_have_text("$0.0100")
    page.get_by_label("Member", exact=True).select_option(label="Everyone")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#kpi-total")).to_have_text(f"${spent}")

    # The CSV: one row per entry, the page's total.
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert len(rows) == 3 and sum(Decimal(row["amount_usd"]) for row in rows) == spent
    assert download.value.suggested_filename.startswith("ledger-studio-")

    # A budget with room for half a run more.
    page.get_by_role("link", name="Budgets").first.click()
    page.get_by_label("Monthly budget (USD)").fill("0.035")
    page.get_by_role("button", name="Save team budget").click()
    expect(page.locator(".meter-text").first).to_contain_text("$0.0050 left of $0.0350")

    # Reconciling with Runware (the sandbox): the page follows the run until the answer is in.
    page.get_by_role("link", name="Reconciliation").first.click()
    page.get_by_role("button", name="Reconcile").click()
    expect(page.locator("[data-reconcile-status]")).to_have_text("Matched", timeout=30_000)
    expect(page.locator("#reconcile-days tfoot")).to_contain_text(f"${spent}")
    expect(page.locator("#balance")).to_have_text(re.compile(r"\$999\.9[0-9]{3}"))
    assert list(Reconciliation.objects.values_list("status", "started_by__username")) == [("matched", "ada")]
    context.close()

    # Every admin page, at both widths, as the admin sees it.
    for width, height in VIEWPORTS:
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        errors = _watch(page)
        browser_login(page, live_server.url, "ada", "pw-ada")
        for name, path in ADMIN_PAGES:
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            _check(page, artifacts, name, width, height, problems, errors)
        event = WebhookEvent.objects.order_by("pk").first()
        page.goto(f"{live_server.url}/deliveries/{event.pk}/")
        _check(page, artifacts, "delivery", width, height, problems, errors)
        context.close()

    # The member's next run does not fit: the page says so beside the price, and the submit is refused.
    image = make_character_png(tmp_path / "hero.png", width=240, height=360)
    video = make_driving_video(tmp_path / "moves.mp4", seconds=1, fps=8, width=240, height=360)
    for width, height in VIEWPORTS:
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        errors = _watch(page)
        browser_login(page, live_server.url, "mia", "pw-mia")
        page.get_by_label("Character image").set_input_files(str(image))
        page.get_by_label("Driving video").set_input_files(str(video))
        page.get_by_label(re.compile("^Size", re.I)).first.select_option("480p")
        expect(page.locator("#price")).to_have_text(re.compile(r"\$0\.01(00)?"), timeout=20_000)
        expect(page.locator("#budget-line")).to_contain_text("Over budget", timeout=10_000)
        expect(page.locator("#budget-line")).to_contain_text("$0.0050 left")
        page.get_by_role("button", name="Generate").click()
        refusal = page.locator("#err-budget")
        expect(refusal).to_contain_text("has $0.0050 left of $0.0350", timeout=10_000)
        expect(refusal).to_contain_text("It resets on")
        expect(page.locator("#budget-line")).to_be_hidden()
        # The browser logs the refused submit's 400 as a console error; that answer is the point here.
        errors[:] = [error for error in errors if "status of 400" not in error]
        _check(page, artifacts, "create-over-budget", width, height, problems, errors)
        context.close()
    assert Generation.objects.count() == 3

    # Members and reviewers: 403 on every admin page and endpoint.
    for username in ("mia", "rey"):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        browser_login(page, live_server.url, username, f"pw-{username}")
        for _, path in ADMIN_PAGES:
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.status == 403, (username, path)
            expect(page.locator("#forbidden")).to_be_visible()
        for path in ("/costs/export.csv", "/audit/export.csv", f"/deliveries/{event.pk}/"):
            assert page.request.get(f"{live_server.url}{path}").status == 403, (username, path)
        for path in ADMIN_API:
            answer = page.request.get(f"{live_server.url}{path}")
            assert answer.status == 403 and answer.json() == {
                "errors": {"detail": ["Only team admins can do this."]}
            }
        assert page.locator("a[href='/costs/']").count() == 0
        page.goto(f"{live_server.url}/costs/")
        page.screenshot(path=str(artifacts / f"costs-forbidden-{username}-1280x800.png"), full_page=True)
        context.close()
    assert problems == []
