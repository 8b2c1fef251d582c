"""The reviewer's surface in a real browser against a live server with the sandbox: the acceptance
flow (a reviewer and a member on one output, live verdict and comment, seeking all panes), compare with
a wipe, and screenshots of gallery, player, compare, board and shared page at both widths."""

import re

import pytest
from playwright.sync_api import expect

from animate.models import Board, BoardItem, Membership, Output
from animate.samples import make_driving_video
from animate.services import shares
from tests.conftest import make_asset
from tests.e2e.test_pages import OVERFLOW, UNLABELLED, _settle
from tests.livehelpers import browser_login, fast_settings, submit, wait_in_page, wait_terminal

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

VIEWPORTS = ((1280, 800), (390, 844))
TIMES = """() => ({
    result: document.getElementById('result-video').currentTime,
    driving: document.getElementById('driving-video').currentTime,
})"""


@pytest.fixture
def two_results(live_server, settings, team, member, image_asset, tmp_path) -> list[Output]:
    """One done generation with two results of a 2-second driving video, made without the browser."""
    fast_settings(settings)
    clip = make_driving_video(tmp_path / "two-seconds.mp4", seconds=2.0, fps=8, width=160, height=240)
    video = make_asset(team, member, "video", clip)
    generation = wait_terminal(submit(member, image_asset, video, numberResults=2))
    assert generation.status == "done", generation.error_message
    outputs = list(generation.outputs.order_by("pk"))
    assert len(outputs) == 2
    return outputs


def _page(browser, width: int, height: int, problems: list[str]):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.on("pageerror", lambda exc: problems.append(f"{width}px pageerror: {exc}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"{width}px console: {message.text}") if message.type == "error" else None
        ),
    )
    return context, page


def _check(page, artifacts, name: str, width: int, height: int, problems: list[str]) -> None:
    # From the top: sticky parts (header, player stage) would otherwise sit mid-page in the picture.
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(100)
    page.screenshot(path=str(artifacts / f"review-{name}-{width}x{height}.png"), full_page=True)
    problems.extend(f"{name} {width}px: unlabelled {html}" for html in page.evaluate(UNLABELLED))
    if width < 500:
        fit = page.evaluate(OVERFLOW)
        if fit["scrollWidth"] > fit["innerWidth"] + 1:
            problems.append(f"{name} {width}px scrolls sideways ({fit['scrollWidth']} px): {fit['wide']}")


def test_a_reviewer_rejects_and_comments_and_a_member_sees_it_live_then_seeks_to_the_comment(
    live_server, browser, artifacts, reviewer, two_results
):
    problems: list[str] = []
    for index, (width, height) in enumerate(VIEWPORTS):
        output = two_results[index]
        rey_context, rey = _page(browser, width, height, problems)
        mia_context, mia = _page(browser, width, height, problems)
        browser_login(rey, live_server.url, "rey", "pw-rey")
        browser_login(mia, live_server.url, "mia", "pw-mia")

        # The reviewer filters the gallery to what nobody has judged yet and opens the first card.
        rey.goto(f"{live_server.url}/gallery/")
        _settle(rey, "#grid")
        filters = rey.locator("#filters")
        if not filters.evaluate("(node) => node.open"):
            filters.locator("summary").click()
        rey.get_by_label("Verdict").select_option("unreviewed")
        rey.wait_for_url(re.compile(r"verdict=unreviewed"))
        expect(rey.locator("[data-card][data-kind=output]")).to_have_count(2 - index)
        rey.locator(f'[data-output-id="{output.pk}"] a.tile-title').click()
        rey.wait_for_url(re.compile(rf"/outputs/{output.pk}/\?verdict=unreviewed"))
        mia.goto(f"{live_server.url}/outputs/{output.pk}/")
        for page in (rey, mia):
            _settle(page, "#result-video")
            expect(page.locator("[data-conn]")).to_have_attribute("data-state", "live", timeout=10_000)
        navigations: list[str] = []
        mia.on(
            "framenavigated",
            lambda frame, seen=navigations, page=mia: (
                seen.append(frame.url) if frame == page.main_frame else None
            ),
        )

        # Play: the result and the driving video advance together.
        rey.get_by_role("button", name="Play").click()
        wait_in_page(rey, "() => document.getElementById('result-video').currentTime > 0.4", timeout=10_000)
        rey.get_by_role("button", name="Pause").click()
        played = rey.evaluate(TIMES)
        assert played["driving"] > 0.2 and abs(played["result"] - played["driving"]) < 0.3, played

        # Reject with "face drift", then comment at 1.5 s.
        rey.get_by_role("button", name="Reject", exact=True).click()
        rey.get_by_label("Face drift").check()
        rey.get_by_role("button", name="Reject with these reasons").click()
        expect(rey.locator("[data-state-badge]")).to_have_text("Rejected")
        rey.get_by_label("Scrub").fill("1.5")
        wait_in_page(rey, "() => Math.abs(document.getElementById('result-video').currentTime - 1.5) < 0.05")
        rey.get_by_label("Comment", exact=True).fill("The face drifts left here")
        expect(rey.locator("[data-comment-time]")).to_have_text("0:01.5")
        rey.get_by_role("button", name="Post comment").click()
        expect(rey.locator(".comment-body")).to_have_text("The face drifts left here")

        # The member sees both arrive without reloading, clicks the comment, and every pane seeks there.
        expect(mia.locator("[data-state-badge]")).to_have_text("Rejected", timeout=10_000)
        expect(mia.locator("[data-verdicts]")).to_contain_text("rey")
        expect(mia.locator("[data-verdicts]")).to_contain_text("Face drift")
        comment = mia.locator(".comment").filter(has_text="The face drifts left here")
        expect(comment).to_be_visible(timeout=10_000)
        expect(mia.locator(".marker")).to_have_count(1)
        comment.get_by_role("button", name="Seek to 0:01.5").click()
        wait_in_page(
            mia,
            """() => ['result-video', 'driving-video'].every(
                (id) => Math.abs(document.getElementById(id).currentTime - 1.5) < 0.1)""",
            timeout=10_000,
        )
        # Keyboard: "." steps one frame (1/8 s here), "s" stars privately.
        mia.keyboard.press(".")
        wait_in_page(
            mia,
            "() => Math.abs(document.getElementById('result-video').currentTime - 1.625) < 0.03",
            timeout=5_000,
        )
        mia.keyboard.press("s")
        expect(mia.locator("[data-star]")).to_have_attribute("aria-pressed", "true")
        expect(rey.locator("[data-star]")).to_have_attribute("aria-pressed", "false")
        assert navigations == [], f"the member's page reloaded: {navigations}"
        _check(mia, artifacts, "player", width, height, problems)
        if index == 0:
            # K: the previous (newer) output in the gallery filter the reviewer came from.
            rey.keyboard.press("k")
            rey.wait_for_url(re.compile(rf"/outputs/{two_results[1].pk}/\?verdict=unreviewed"))
        rey_context.close()
        mia_context.close()

    assert problems == []
    rejected = two_results[0].verdicts.get(is_current=True)
    assert rejected.decision == "rejected" and rejected.reasons == ["face_drift"]
    assert two_results[0].comments.get().at_seconds == pytest.approx(1.5, abs=0.02)


def test_compare_wipe_board_shared_page_and_gallery_at_both_widths(
    live_server, browser, artifacts, member, two_results
):
    a, b = two_results
    board = Board.objects.create(team_id=a.team_id, name="Client picks", created_by=member)
    for output in two_results:
        BoardItem.objects.create(board=board, output=output)
    _, token = shares.share_create(
        membership=Membership.objects.get(user=member), board=board, expires_in="1d"
    )
    problems: list[str] = []
    for width, height in VIEWPORTS:
        context, page = _page(browser, width, height, problems)
        browser_login(page, live_server.url, "mia", "pw-mia")

        page.goto(f"{live_server.url}/gallery/")
        _settle(page, "#grid")
        # Selecting two cards enables "Compare", which opens them side by side.
        page.get_by_label(f"Select output #{a.pk}").check()
        page.get_by_label(f"Select output #{b.pk}").check()
        _check(page, artifacts, "gallery", width, height, problems)
        page.get_by_role("button", name="Compare").click()
        page.wait_for_url(re.compile(rf"/compare/\?a={a.pk}&b={b.pk}"))
        _settle(page, "#video-a")
        expect(page.locator(".diff")).to_contain_text("Seed")

        page.get_by_label("Wipe", exact=True).check()
        # The page's module script switches the view (and shows the position control) once it has run;
        # on a loaded machine it may still be loading when the radio is checked, so wait for its effect.
        expect(page.locator("#compare-view")).to_have_attribute("data-view", "wipe")
        expect(page.get_by_label("Wipe position")).to_be_visible()
        view = page.locator("#compare-view")
        view.scroll_into_view_if_needed()  # the mouse reaches only what is inside the viewport
        box = view.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.5, steps=5)
        page.mouse.up()
        wipe = int(page.get_by_label("Wipe position").input_value())
        assert 20 <= wipe <= 30, wipe
        clip = page.locator(".pane--b").evaluate("(node) => node.style.clipPath")
        assert clip == f"inset(0px 0px 0px {wipe}%)" or clip == f"inset(0 0 0 {wipe}%)", clip
        page.get_by_role("button", name="Play").click()
        wait_in_page(page, "() => document.getElementById('video-a').currentTime > 0.3", timeout=10_000)
        page.get_by_role("button", name="Pause").click()
        times = page.evaluate(
            "() => ['video-a', 'video-b'].map((id) => document.getElementById(id).currentTime)"
        )
        assert abs(times[0] - times[1]) < 0.3 and times[1] > 0.1, times
        _check(page, artifacts, "compare", width, height, problems)

        page.goto(f"{live_server.url}/boards/{board.pk}/")
        _settle(page, "#grid")
        expect(page.locator("[data-card]")).to_have_count(2)
        _check(page, artifacts, "board", width, height, problems)
        context.close()

        # The shared page needs no login and plays the board's results, with Range.
        anonymous, shared = _page(browser, width, height, problems)
        response = shared.goto(f"{live_server.url}/s/{token}/")
        assert response is not None and response.status == 200
        _settle(shared, "video")
        expect(shared.locator("video")).to_have_count(2)
        src = shared.locator("video").first.evaluate("(video) => video.currentSrc")
        ranged = shared.request.get(src, headers={"Range": "bytes=0-9"})
        assert ranged.status == 206 and len(ranged.body()) == 10
        assert "mia" not in shared.content() and f"/outputs/{a.pk}/" not in shared.content()
        _check(shared, artifacts, "shared", width, height, problems)
        anonymous.close()
    assert problems == []
