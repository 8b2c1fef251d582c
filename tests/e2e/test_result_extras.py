"""The result page in a real browser: a flagged result stays blurred until "Show anyway", a result with the
driving video's sound plays it and offers Runware's silent file; the create page offers to keep the sound
only for a driving video that has some."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from animate.models import Generation
from animate.samples import make_character_png, make_driving_video
from animate.services.media import output_store
from animate.services.remux import output_audio_attach
from tests.conftest import make_asset
from tests.livehelpers import browser_login, fast_settings

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

WIDTHS = ((1280, 800), (390, 844))


@pytest.fixture
def finished(team, member, tmp_path):
    """A done run of a driving clip with sound: one result with it added, one flagged by the safety check."""
    image = make_asset(
        team, member, "image", make_character_png(tmp_path / "hero.png", width=240, height=360)
    )
    clip = make_driving_video(tmp_path / "talk.mp4", seconds=2, fps=8, width=240, height=360, with_audio=True)
    video = make_asset(team, member, "video", clip)
    generation = Generation.objects.create(
        team=team,
        created_by=member,
        image=image,
        video=video,
        keep_audio=True,
        status="done",
        number_results=2,
    )
    outputs = []
    for index, nsfw in enumerate((False, True)):
        result = make_driving_video(tmp_path / f"result-{index}.mp4", seconds=2, fps=8, width=240, height=360)
        stored = output_store(
            generation=generation,
            video_uuid=uuid.uuid4(),
            path=result,
            content_type="video/mp4",
            nsfw=nsfw,
            seed=index,
        )
        outputs.append(output_audio_attach(output=stored) if not nsfw else stored)
    return generation, outputs


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_the_result_page_blurs_a_flagged_result_until_show_anyway_and_plays_the_kept_sound(
    live_server, browser, artifacts, member, finished, width, height
):
    generation, (with_sound, flagged) = finished
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, live_server.url, "mia", "pw-mia")
    page.goto(f"{live_server.url}/generations/{generation.pk}/")

    frame = page.locator(f'[data-output-id="{flagged.pk}"] [data-nsfw-frame]')
    video = frame.locator("video")
    expect(frame.get_by_role("button", name="Show anyway")).to_be_visible()
    assert "blur" in video.evaluate("(v) => getComputedStyle(v).filter")
    original = page.get_by_role("link", name="Runware's original file")
    expect(original).to_have_attribute("href", f"/m/outputs/{with_sound.pk}/original?download=1")
    sound = page.locator(f'[data-output-id="{with_sound.pk}"] video').evaluate(
        """async (video) => {
            video.muted = true;
            await video.play();
            // Playing is seen once the clock moves; a loaded machine may take a while to start.
            for (let waited = 0; video.currentTime === 0 && !video.error && waited < 10000; waited += 100) {
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
            return {error: video.error && video.error.code, time: video.currentTime};
        }"""
    )
    assert sound["error"] is None and sound["time"] > 0
    page.screenshot(path=str(artifacts / f"result-audio-nsfw-{width}x{height}.png"), full_page=True)

    frame.get_by_role("button", name="Show anyway").click()

    expect(frame.get_by_role("button", name="Show anyway")).to_have_count(0)
    assert video.evaluate("(v) => getComputedStyle(v).filter") == "none"
    assert errors == []
    context.close()


def test_the_keep_audio_box_appears_for_a_driving_video_with_sound_only(
    live_server, browser, member, tmp_path
):
    silent = make_driving_video(tmp_path / "silent.mp4", seconds=1, fps=8, width=160, height=240)
    talking = make_driving_video(
        tmp_path / "talk.mp4", seconds=1, fps=8, width=160, height=240, with_audio=True
    )
    context = browser.new_context()
    page = context.new_page()
    browser_login(page, live_server.url, "mia", "pw-mia")
    box = page.get_by_label("Keep the driving clip's audio")
    expect(box).to_be_hidden()

    page.get_by_label("Driving video").set_input_files(str(silent))
    expect(page.locator("[data-dropzone=video] [data-meta]")).to_contain_text("None", timeout=20_000)
    expect(box).to_be_hidden()

    page.get_by_label("Driving video").set_input_files(str(talking))
    expect(box).to_be_visible(timeout=20_000)
    expect(box).to_be_checked()
    expect(page.locator("[data-dropzone=video] [data-meta]")).to_contain_text("Yes (aac)")
    warnings = page.locator("[data-dropzone=video] [data-warnings]")
    expect(warnings).not_to_contain_text("silent")
    context.close()


def test_a_flagged_result_in_a_run_card_on_the_create_page_is_blurred_until_show_anyway(
    live_server, settings, browser, artifacts, member, tmp_path
):
    fast_settings(settings)
    image = make_character_png(tmp_path / "hero.png", width=240, height=360)
    clip = make_driving_video(tmp_path / "moves.mp4", seconds=1, fps=8, width=240, height=360)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    browser_login(page, live_server.url, "mia", "pw-mia")
    page.get_by_label("Character image").set_input_files(str(image))
    page.get_by_label("Driving video").set_input_files(str(clip))
    page.get_by_label(re.compile("^Size", re.I)).first.select_option("480p")
    # The sandbox flags results of tasks that ask for a safety check when told to.
    page.get_by_label("Prompt", exact=True).fill("a dance [sandbox:nsfw]")
    page.locator("#advanced summary").click()
    page.get_by_label("Check content").check()
    submit = page.get_by_role("button", name="Generate")
    expect(submit).to_be_enabled(timeout=15_000)
    submit.click()

    card = page.locator(".status-card").first
    expect(card).to_contain_text(re.compile("done", re.I), timeout=90_000)
    frame = card.locator("[data-nsfw-frame]").first
    expect(frame.get_by_role("button", name="Show anyway")).to_be_visible(timeout=20_000)
    assert "blur" in frame.locator("video").evaluate("(v) => getComputedStyle(v).filter")
    card.screenshot(path=str(artifacts / "create-run-card-nsfw-390x844.png"))

    frame.get_by_role("button", name="Show anyway").click()

    expect(frame.get_by_role("button", name="Show anyway")).to_have_count(0)
    assert frame.locator("video").evaluate("(v) => getComputedStyle(v).filter") == "none"
    context.close()
