"""Playwright with the system Chromium (never a downloaded browser)."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A fresh Chromium per test: Playwright's sync API keeps an asyncio loop running in this thread
    while it is open, which must not leak into the async tests that run later in the same session."""
    # While the loop runs, Django's async-safety check would refuse the ORM calls the test itself makes.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        violations = _watch_for_csp_violations(browser)
        yield browser
        browser.close()
    # Every page a browser test opens runs under the real Content-Security-Policy: nothing may be refused.
    assert not violations, violations


def _watch_for_csp_violations(browser: object) -> list[str]:
    """Collect what Chromium reports refusing under the CSP, on every page of every context."""
    violations: list[str] = []

    def watch(page: object) -> None:
        def on_console(message: object) -> None:
            if "Content Security Policy" in message.text:  # type: ignore[attr-defined]
                violations.append(f"{page.url}: {message.text}")  # type: ignore[attr-defined]

        page.on("console", on_console)  # type: ignore[attr-defined]

    new_context, new_page = browser.new_context, browser.new_page  # type: ignore[attr-defined]

    def watched_context(*args: object, **kwargs: object) -> object:
        context = new_context(*args, **kwargs)
        context.on("page", watch)
        return context

    def watched_page(*args: object, **kwargs: object) -> object:
        page = new_page(*args, **kwargs)
        watch(page)
        return page

    browser.new_context, browser.new_page = watched_context, watched_page  # type: ignore[attr-defined]
    return violations


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
