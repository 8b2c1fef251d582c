"""A run that ends while its tab is in the background: one browser notification and a title badge.

Chromium is given the notification permission; a hidden tab is emulated by overriding ``document.hidden``
and ``visibilityState`` from an init script, and ``window.Notification`` is wrapped to record what the
page shows (the real constructor still runs).
"""

import re

import pytest
from playwright.sync_api import expect

from animate.samples import make_character_png, make_driving_video
from tests.conftest import make_asset
from tests.livehelpers import browser_login, fast_settings, submit, wait_in_page, wait_terminal

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

WIDTHS = ((1280, 800), (390, 844))

INIT = """
(() => {
  window.__hidden = false;
  Object.defineProperty(Document.prototype, "hidden", { configurable: true, get: () => window.__hidden });
  Object.defineProperty(Document.prototype, "visibilityState", {
    configurable: true,
    get: () => (window.__hidden ? "hidden" : "visible"),
  });
  window.__setHidden = (hidden) => {
    window.__hidden = hidden;
    document.dispatchEvent(new Event("visibilitychange"));
  };
  window.__notifications = [];
  window.__permissionAsked = 0;
  const Real = window.Notification;
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notifications.push({ title, body: options && options.body, instance: this });
    }
    static requestPermission(...args) {
      window.__permissionAsked += 1;
      return Real.requestPermission(...args);
    }
  }
  window.Notification = Recorded;
})();
"""


@pytest.fixture
def inputs(team, member, tmp_path):
    image = make_asset(
        team, member, "image", make_character_png(tmp_path / "hero.png", width=120, height=180)
    )
    clip = make_driving_video(tmp_path / "moves.mp4", seconds=1, fps=8, width=120, height=180)
    return image, make_asset(team, member, "video", clip)


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_a_run_ending_in_a_background_tab_notifies_once_badges_the_title_and_opens_the_result(
    live_server, settings, browser, artifacts, member, inputs, width, height
):
    fast_settings(settings)
    context = browser.new_context(viewport={"width": width, "height": height}, permissions=["notifications"])
    context.add_init_script(INIT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, live_server.url, "mia", "pw-mia")

    control = page.get_by_role("button", name="Notify me when runs finish")
    expect(control).to_be_visible()
    assert page.evaluate("window.__permissionAsked") == 0  # never asked on page load
    page.screenshot(path=str(artifacts / f"notify-control-{width}x{height}.png"), full_page=True)
    control.click()
    expect(page.get_by_role("button", name=re.compile("Notifications on"))).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("[data-conn]")).to_have_attribute("data-state", "live", timeout=20_000)
    title = page.title()

    page.evaluate("window.__setHidden(true)")
    generation = wait_terminal(submit(member, *inputs), timeout=90)
    assert generation.status == "done"

    wait_in_page(page, "window.__notifications.length > 0", timeout=20_000)
    page.wait_for_timeout(500)  # a second notice for the same run would have arrived by now
    notices = page.evaluate("window.__notifications.map(({title, body}) => ({title, body}))")
    assert notices == [{"title": f"Generation #{generation.pk} is done", "body": notices[0]["body"]}]
    assert notices[0]["body"].startswith("1 of 1 results")
    assert page.title() == f"(1) {title}"

    page.evaluate("window.__notifications[0].instance.dispatchEvent(new Event('click'))")
    page.wait_for_url(f"{live_server.url}/generations/{generation.pk}/", timeout=10_000)
    expect(page.locator("#detail")).to_have_attribute("data-generation-id", str(generation.pk))
    assert errors == []
    context.close()


def test_the_badge_clears_when_the_tab_is_shown_and_a_visible_tab_gets_no_notification(
    live_server, settings, browser, member, inputs
):
    fast_settings(settings)
    context = browser.new_context(permissions=["notifications"])
    context.add_init_script(INIT)
    page = context.new_page()
    browser_login(page, live_server.url, "mia", "pw-mia")
    page.get_by_role("button", name="Notify me when runs finish").click()
    expect(page.locator("[data-conn]")).to_have_attribute("data-state", "live", timeout=20_000)
    title = page.title()

    # In view: the page itself shows the run ending, so nothing is announced.
    wait_terminal(submit(member, *inputs), timeout=90)
    page.wait_for_timeout(1500)
    assert page.evaluate("window.__notifications.length") == 0 and page.title() == title

    page.evaluate("window.__setHidden(true)")
    wait_terminal(submit(member, *inputs, seed=5), timeout=90)
    wait_in_page(page, "document.title.startsWith('(1) ')", timeout=20_000)
    page.evaluate("window.__setHidden(false)")
    assert page.title() == title

    # Remembered: the next page has notifications on without asking again.
    page.reload()
    expect(page.get_by_role("button", name=re.compile("Notifications on"))).to_be_visible()
    assert page.evaluate("window.__permissionAsked") == 0
    context.close()


def test_a_run_with_some_results_failed_is_announced_as_done_with_k_of_n(
    live_server, settings, browser, member, inputs
):
    fast_settings(settings)
    context = browser.new_context(permissions=["notifications"])
    context.add_init_script(INIT)
    page = context.new_page()
    browser_login(page, live_server.url, "mia", "pw-mia")
    page.get_by_role("button", name="Notify me when runs finish").click()
    expect(page.locator("[data-conn]")).to_have_attribute("data-state", "live", timeout=20_000)

    page.evaluate("window.__setHidden(true)")
    generation = wait_terminal(
        submit(member, *inputs, numberResults=3, positivePrompt="[sandbox:fail_result=2] dance"), timeout=90
    )
    assert (generation.status, generation.results_failed) == ("done", 1)

    wait_in_page(page, "window.__notifications.length > 0", timeout=20_000)
    (notice,) = page.evaluate("window.__notifications.map(({title, body}) => ({title, body}))")
    assert notice["title"] == f"Generation #{generation.pk} is done with 2 of 3 results"
    assert notice["body"].startswith("2 of 3 results")
    context.close()
