"""The creator's whole journey in a real browser against a live embedded server with the sandbox."""

import re

import pytest
from playwright.sync_api import expect

from animate.samples import make_character_png, make_driving_video
from tests.livehelpers import fast_settings

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

WIDTHS = ((1280, 800), (390, 844))


def _login(page, live_server, username, password):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_url(f"{live_server.url}/")


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
    _login(page, live_server, "mia", "pw-mia")

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
