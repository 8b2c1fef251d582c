"""Run cards in a real browser: what is happening now with a live elapsed counter, the ETA, "taking
longer than usual" from the team's own history, and dismissing an ended run for good."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from animate.models import Generation
from animate.samples import make_character_png, make_driving_video
from tests.livehelpers import browser_login, fast_settings

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


def _submit(page, tmp_path):
    image = make_character_png(tmp_path / "hero.png", width=240, height=360)
    video = make_driving_video(tmp_path / "moves.mp4", seconds=2, fps=8, width=240, height=360)
    page.get_by_label("Character image").set_input_files(str(image))
    page.get_by_label("Driving video").set_input_files(str(video))
    submit = page.get_by_role("button", name="Generate")
    expect(submit).to_be_enabled(timeout=20_000)
    submit.click()
    card = page.locator(".status-card").first
    expect(card).to_be_visible(timeout=10_000)
    return card


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_the_run_card_shows_an_eta_and_a_live_elapsed_counter_then_can_be_dismissed_for_good(
    live_server, settings, browser, artifacts, member, tmp_path, width, height
):
    fast_settings(settings)
    cache.clear()  # the rates cached for status events belong to earlier tests' teams
    # Rendering starts 6 s after Runware's acknowledgement: long enough to watch the card count.
    settings.RUNWARE_SANDBOX_FAULTS = "delay=6"
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, live_server.url, "mia", "pw-mia")
    card = _submit(page, tmp_path)

    live = card.locator("[data-live-text]")
    expect(live).to_have_text(
        re.compile(r"^(Queued — sending to|Submitted — waiting for) Runware \(\d+ s\)$")
    )
    eta = card.locator("[data-eta]")
    # No finished runs yet: the tier's default rate times the 2 s clip, said as a first guess.
    expect(eta).to_have_text(
        re.compile(r"^About (\d+ min )?\d+ s left \(a first guess until the team has more runs\)$")
    )
    first = live.text_content()
    expect(live).not_to_have_text(first, timeout=5_000)  # the counter moves without any event
    page.screenshot(path=str(artifacts / f"runs-waiting-{width}x{height}.png"), full_page=True)

    expect(card.locator("[data-badge]")).to_have_text("Done", timeout=90_000)
    expect(live).to_have_text(re.compile(r"^Done in \d+ s$"))
    expect(eta).to_be_hidden()
    dismiss = card.get_by_role("button", name=re.compile("^Dismiss"))
    expect(dismiss).to_be_visible()
    generation = Generation.objects.get()
    page.screenshot(path=str(artifacts / f"runs-done-{width}x{height}.png"), full_page=True)
    dismiss.click()
    expect(page.locator(".status-card")).to_have_count(0)
    generation.refresh_from_db()
    assert generation.dismissed_at is not None

    # Persisted: a reload shows no card for it, while "My generations" still lists it.
    page.reload()
    page.wait_for_timeout(1500)
    expect(page.locator(".status-card")).to_have_count(0)
    page.goto(f"{live_server.url}/generations/")
    expect(page.locator(f'[data-generation-id="{generation.pk}"]')).to_be_visible()
    assert errors == []
    context.close()


def test_a_run_past_the_teams_p90_says_it_is_taking_longer_than_usual(
    live_server, settings, browser, member, image_asset, video_asset, tmp_path
):
    fast_settings(settings)
    settings.RUNWARE_SANDBOX_FAULTS = "delay=8"
    cache.clear()  # the rates cached for status events belong to earlier tests' teams
    # Five finished runs of the team in each tier took a tenth of a second per second of video.
    start = timezone.now() - timedelta(hours=1)
    for resolution in ("480p", "580p", "720p"):
        for _ in range(5):
            done = Generation.objects.create(
                team=member.memberships.get().team,
                created_by=member,
                image=image_asset,
                video=video_asset,
                status="done",
                parameters={"resolution": resolution},
            )
            Generation.objects.filter(pk=done.pk).update(
                created_at=start, completed_at=start + timedelta(seconds=0.1)
            )
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    browser_login(page, live_server.url, "mia", "pw-mia")
    card = _submit(page, tmp_path)
    eta = card.locator("[data-eta]")
    expect(eta).to_have_text(re.compile(r"^Taking longer than usual — usually ~10 s$"), timeout=10_000)
    expect(eta).to_have_class(re.compile("is-late"))
    context.close()


def test_an_admin_stops_waiting_from_the_result_page_and_is_told_the_charge_may_still_come(
    live_server, settings, browser, admin, member, image_asset, video_asset
):
    fast_settings(settings)
    generation = Generation.objects.create(
        team=member.memberships.get().team,
        created_by=member,
        image=image_asset,
        video=video_asset,
        status="processing",
        submitted_at=timezone.now(),
        processing_at=timezone.now(),
    )
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())
    browser_login(page, live_server.url, "ada", "pw-ada")
    page.goto(f"{live_server.url}/generations/{generation.pk}/")
    expect(page.locator("#status-card [data-live-text]")).to_have_text(
        re.compile(r"^Processing at Runware \(\d+ s\)$")
    )
    page.get_by_role("button", name="Stop waiting").click()
    expect(page.locator("#status-card [data-badge]")).to_have_text("Failed")
    expect(page.locator("#stopped-note")).to_be_visible()
    expect(page.locator("#status-card [data-error]")).to_have_text(re.compile(r"^Stopped waiting by ada\."))
    expect(page.get_by_role("button", name="Stop waiting")).to_be_hidden()
    generation.refresh_from_db()
    assert (generation.status, generation.error_code) == ("failed", "stoppedWaiting")
    assert errors == []
    context.close()
