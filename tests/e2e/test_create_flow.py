"""The creator's whole journey in a real browser against a live embedded server with the sandbox."""

import re

import pytest
from playwright.sync_api import expect

from animate.models import Generation, Preset
from animate.runware.sandbox.engine import sandbox
from animate.samples import make_character_png, make_driving_video
from tests.livehelpers import browser_login, fast_settings

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

WIDTHS = ((1280, 800), (390, 844))


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_upload_preview_price_submit_and_watch_the_result_play_without_reloading(
    live_server, settings, browser, artifacts, member, tmp_path, width, height
):
    fast_settings(settings)
    image = make_character_png(tmp_path / "hero.png", width=240, height=360)
    video = make_driving_video(tmp_path / "moves.mp4", seconds=2, fps=8, width=240, height=360)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, live_server.url, "mia", "pw-mia")

    page.get_by_label("Character image").set_input_files(str(image))
    page.get_by_label("Driving video").set_input_files(str(video))
    expect(page.locator("img.preview-image, .preview img").first).to_be_visible(timeout=20_000)
    expect(page.locator(".preview video, video.preview-video").first).to_be_visible(timeout=20_000)
    # 2 s at the default 480p tier... the page shows the exact estimate from pricing.py.
    page.get_by_label(re.compile("^Resolution|^Size", re.I)).first.select_option("480p")
    expect(page.locator("#price")).to_have_text(re.compile(r"\$0\.02(00)?"), timeout=10_000)
    page.screenshot(path=str(artifacts / f"create-ready-{width}x{height}.png"), full_page=True)

    navigations = []
    page.on(
        "framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None
    )
    submit = page.get_by_role("button", name="Generate")
    expect(submit).to_be_enabled(timeout=10_000)
    submit.click()

    card = page.locator(".status-card").first
    expect(card).to_be_visible(timeout=10_000)
    expect(card).to_contain_text(re.compile("done", re.I), timeout=90_000)
    result = card.locator("video").first
    expect(result).to_be_visible(timeout=20_000)
    playing = result.evaluate(
        """async (video) => {
            video.muted = true;
            await video.play();
            await new Promise((resolve) => setTimeout(resolve, 600));
            return {time: video.currentTime, ready: video.readyState, error: video.error && video.error.code};
        }"""
    )
    assert playing["error"] is None and playing["ready"] >= 2 and playing["time"] > 0
    assert navigations == [], f"the page reloaded or navigated: {navigations}"
    page.screenshot(path=str(artifacts / f"create-done-{width}x{height}.png"), full_page=True)
    assert errors == []
    context.close()


# --- exact prices, no double spend, drafts and presets ----------------------------------------------------


@pytest.fixture
def ready_page(live_server, settings, browser, member, tmp_path):
    """The create page with both inputs uploaded (a 2:3 clip of 2 s), and the page's errors."""
    fast_settings(settings)
    image = make_character_png(tmp_path / "hero.png", width=240, height=360)
    video = make_driving_video(tmp_path / "moves.mp4", seconds=2, fps=8, width=240, height=360)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, live_server.url, "mia", "pw-mia")
    page.get_by_label("Character image").set_input_files(str(image))
    page.get_by_label("Driving video").set_input_files(str(video))
    expect(page.locator(".preview video").first).to_be_visible(timeout=20_000)
    yield page, errors
    assert errors == []
    context.close()


def _is_quote_of_seed_42(response) -> bool:
    return response.url.endswith("/api/quote/") and '"seed":42' in (response.request.post_data or "")


def _is_submit(response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/api/generations/")


def _generate(page):
    submit = page.get_by_role("button", name="Generate")
    expect(submit).to_be_enabled(timeout=10_000)
    return submit


def test_the_size_defaults_to_the_row_nearest_the_videos_shape_and_the_price_is_exact(ready_page):
    page, _ = ready_page

    expect(page.locator("#size-note")).to_have_text("480×704 — closest to your video's 2:3.", timeout=10_000)
    expect(page.locator("#id_size")).to_have_value("480x704")
    expect(page.locator("#price")).to_have_text("$0.0200")
    expect(page.locator("#breakdown")).to_have_text("2 s × $0.010 × 1 result · 480p tier")

    page.locator("#id_size").select_option("")
    expect(page.locator("#price")).to_have_text("$0.0200 – $0.0424", timeout=10_000)
    expect(page.locator("#price-note")).to_contain_text("Size left to Runware")
    # The user's own choice is kept: the suggestion is only said, not applied again.
    expect(page.locator("#size-note")).to_have_text("Suggested: 480×704 — closest to your video's 2:3.")
    expect(page.locator("#id_size")).to_have_value("")


def test_a_double_click_on_generate_makes_exactly_one_run(ready_page):
    page, _ = ready_page
    before = sandbox().task_uuids()

    _generate(page).dblclick()

    card = page.locator(".status-card").first
    expect(card).to_contain_text(re.compile("done", re.I), timeout=90_000)
    page.wait_for_timeout(500)
    assert page.locator(".status-card").count() == 1
    generation = Generation.objects.get()
    assert generation.idempotency_key  # the page sent its draft's key
    assert sandbox().task_uuids() - before == {str(generation.task_uuid)}


def test_an_identical_job_is_named_with_its_cost_and_runs_again_only_when_confirmed(ready_page):
    page, _ = ready_page
    page.locator("[data-key=seed_random]").uncheck()
    # Generate is disabled while the settings are re-checked: click only once the seed's quote is in.
    with page.expect_response(_is_quote_of_seed_42, timeout=30_000):
        page.locator("[data-key=seed]").fill("42")
    expect(page.locator("#price")).to_have_text("$0.0200", timeout=10_000)
    with page.expect_response(_is_submit, timeout=30_000) as submitted:
        _generate(page).click()
    assert submitted.value.status == 201, submitted.value.text()
    expect(page.locator(".status-card")).to_have_count(1, timeout=30_000)
    first = Generation.objects.get()

    notice = page.locator("#duplicate")
    expect(notice).to_be_visible(timeout=30_000)
    expect(notice.locator("a")).to_have_attribute("href", f"/generations/{first.pk}/")
    expect(notice).to_contain_text("$0.0200")
    expect(page.get_by_role("button", name="Generate")).to_be_disabled()
    page.get_by_label("Pay for it again anyway").check()
    _generate(page).click()

    expect(page.locator(".status-card")).to_have_count(2, timeout=30_000)
    assert Generation.objects.count() == 2


def test_a_reload_keeps_the_draft_and_clear_resets_it(ready_page, live_server):
    page, _ = ready_page
    page.locator("[data-key=fps]").fill("12")
    page.get_by_label("Replace").check()
    expect(page.locator("#price")).to_have_text("$0.0200", timeout=10_000)

    page.reload()

    expect(page.locator(".preview img").first).to_be_visible(timeout=10_000)
    expect(page.locator(".preview video").first).to_be_visible()
    expect(page.locator("[data-key=fps]")).to_have_value("12")
    expect(page.get_by_label("Replace")).to_be_checked()
    expect(page.locator("#id_size")).to_have_value("480x704")
    expect(page.locator("#price")).to_have_text("$0.0200", timeout=10_000)
    _generate(page)

    page.get_by_role("button", name="Clear draft").click()
    page.wait_for_load_state()
    expect(page.locator("[data-key=fps]")).to_have_value("")
    expect(page.locator(".preview img")).to_have_count(0)
    expect(page.locator("#price")).to_have_text("—")


def test_a_preset_saved_for_the_team_fills_the_settings_but_not_the_inputs(ready_page):
    page, _ = ready_page
    page.locator("[data-key=fps]").fill("12")
    page.locator("#id_size").select_option("832x480")
    page.get_by_label("Save these settings as").fill("Wide 12 fps")
    page.get_by_role("button", name="Save preset").click()
    expect(page.locator("#preset-status")).to_have_text("Saved “Wide 12 fps” for the team.", timeout=10_000)
    page.locator("[data-key=fps]").fill("20")
    page.locator("#id_size").select_option("480x480")

    page.get_by_label("Preset", exact=True).select_option(label="Wide 12 fps")
    expect(page.locator("#preset-facts")).to_have_text("no runs yet")
    page.get_by_role("button", name="Apply").click()

    expect(page.locator("[data-key=fps]")).to_have_value("12")
    expect(page.locator("#id_size")).to_have_value("832x480")
    expect(page.locator(".preview video").first).to_be_visible()
    _generate(page).click()
    expect(page.locator(".status-card")).to_have_count(1, timeout=10_000)
    assert Generation.objects.get().preset == Preset.objects.get(name="Wide 12 fps")

    page.get_by_label("Save these settings as").fill("wide 12 FPS")
    page.get_by_role("button", name="Save preset").click()
    expect(page.locator("#err-preset-name")).to_contain_text("already has a preset")


def test_the_eta_from_the_quote_is_shown_beside_the_price(ready_page):
    page, _ = ready_page
    eta = {"p50_seconds": 100, "p90_seconds": 180, "basis": "team", "runs": 12}

    def with_eta(route):
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "eta": eta})

    page.route("**/api/quote/", with_eta)
    page.locator("[data-key=fps]").fill("12")
    expect(page.locator("#eta-line")).to_have_text(
        "Usually 1 min 40 s, up to 3 min — from 12 of your team's runs.", timeout=10_000
    )
    eta.update(basis="default", runs=0, p50_seconds=45, p90_seconds=90)
    page.locator("[data-key=fps]").fill("14")
    expect(page.locator("#eta-line")).to_have_text(
        "Usually 45 s, up to 1 min 30 s — an estimate until your team has more runs.", timeout=10_000
    )
    page.unroute("**/api/quote/")

    def without_eta(route):
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "eta": None})

    page.route("**/api/quote/", without_eta)
    page.locator("[data-key=fps]").fill("16")
    expect(page.locator("#eta-line")).to_be_hidden(timeout=10_000)
    page.unroute("**/api/quote/")
    # The server's own figure: the team has no finished runs yet, so the per-tier default.
    page.locator("[data-key=fps]").fill("18")
    expect(page.locator("#eta-line")).to_contain_text(
        "an estimate until your team has more runs", timeout=10_000
    )


def test_an_upload_to_the_api_shows_its_progress_bar(live_server, settings, browser, member, tmp_path):
    fast_settings(settings)
    video = make_driving_video(tmp_path / "moves.mp4", seconds=2, fps=8, width=240, height=360)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    browser_login(page, live_server.url, "mia", "pw-mia")

    def slow(route):
        # Held back after the bytes are sent, so the bar can be seen at 100 % before the answer.
        page.wait_for_timeout(1500)
        route.continue_()

    page.route("**/api/assets/**", slow)
    page.get_by_label("Driving video").set_input_files(str(video))

    bar = page.get_by_label("Video upload progress")
    expect(bar).to_be_visible(timeout=10_000)
    expect(page.locator("[data-dropzone=video] [data-progress-text]")).to_have_text("100%", timeout=10_000)
    expect(page.locator(".preview video").first).to_be_visible(timeout=20_000)
    expect(bar).to_be_hidden()
    context.close()
