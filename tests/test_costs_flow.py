"""Acceptance: duplicate, replayed and late webhooks never double-count, and a period's ledger, the
dashboard's total and the CSV's total are one number — whole runs through a live server and the sandbox."""

import csv
import io
import re
import time
from decimal import Decimal

import httpx
import pytest
from django.db.models import Sum
from django.test import Client

from animate.models import CostEntry, Membership, Output, WebhookEvent
from animate.runware import spec
from animate.services import deliveries, ingest
from animate.services.submission import runware_client
from tests.livehelpers import fast_settings, submit, wait_terminal

pytestmark = pytest.mark.timeout(180)


def _wait_processed(timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while WebhookEvent.objects.filter(status__in=["received", "processing"]).exists():
        assert time.monotonic() < deadline, "webhook events were not all applied"
        time.sleep(0.1)


def test_duplicates_replays_and_late_deliveries_are_counted_once_and_every_total_agrees(
    live_server, settings, team, admin, member, image_asset, video_asset
):
    fast_settings(settings)
    noisy = submit(
        member, image_asset, video_asset, numberResults=2, positivePrompt="x [sandbox:duplicate=3,late]"
    )
    plain = submit(admin, image_asset, video_asset, resolution="720p")
    failed = submit(member, image_asset, video_asset, positivePrompt="x [sandbox:error=inferenceError]")
    for generation in (noisy, plain, failed):
        wait_terminal(generation)
    _wait_processed()
    # Every result three times, plus late ones: identical replays are counted on their body's one copy.
    copies = WebhookEvent.objects.filter(generation=noisy).values_list("duplicates", flat=True)
    assert sum(1 + replays for replays in copies) >= 6

    # An admin replays every delivery of the noisy run, through the same ingestion path.
    membership = Membership.objects.select_related("team", "user").get(user=admin)
    for event in list(WebhookEvent.objects.filter(generation=noisy)):
        deliveries.delivery_replay(membership=membership, event_id=event.pk, actor=admin)
    _wait_processed()
    # And Runware's cumulative state arrives once more, late, after the run ended.
    client = runware_client()
    try:
        batch = client.get_response(str(noisy.task_uuid))
    finally:
        client.close()
    ingest.results_apply(generation_id=noisy.pk, results=[spec.parse_result(item) for item in batch.data])

    noisy.refresh_from_db()
    assert noisy.status == "done" and Output.objects.filter(generation=noisy).count() == 2
    assert CostEntry.objects.filter(generation=noisy).count() == 2
    assert noisy.actual_cost == Decimal("0.0200") and noisy.reserved_cost == 0
    ledger_total = CostEntry.objects.filter(team=team).aggregate(total=Sum("amount"))["total"]
    assert Decimal(str(ledger_total)).quantize(Decimal("0.0001")) == Decimal(
        "0.0412"
    )  # 2 x $0.01 + 720p $0.0212

    # Over real HTTP, so the CSV is streamed by the ASGI server as in production.
    login = Client()
    login.force_login(admin)
    cookies = {settings.SESSION_COOKIE_NAME: login.cookies[settings.SESSION_COOKIE_NAME].value}
    with httpx.Client(base_url=live_server.url, cookies=cookies, timeout=30) as browser:
        page = browser.get("/costs/", params={"range": "today"}).text
        dashboard_total = Decimal(re.search(r'id="kpi-total">\$([0-9.]+)<', page).group(1))
        export = browser.get("/costs/export.csv", params={"range": "today"})
        api_total = Decimal(browser.get("/api/costs/summary/", params={"range": "today"}).json()["total"])
    assert (
        export.headers["content-type"] == "text/csv; charset=utf-8" and "content-length" not in export.headers
    )
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    csv_total = sum(Decimal(row["amount_usd"]) for row in rows)

    assert dashboard_total == csv_total == api_total == Decimal("0.0412") and len(rows) == 3
