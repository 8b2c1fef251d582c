"""Helpers for tests that run whole generations through a live server and the sandbox."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from animate.models import Generation
from animate.services.generations import generation_create
from animate.services.teams import membership_for


def browser_login(page, url: str, username: str, password: str) -> None:
    """Sign in through the login page (axes needs the request), landing on the create page."""
    import re

    page.goto(f"{url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_url(f"{url}/")


def wait_in_page(page, expression: str, timeout: float = 30_000) -> None:
    """Poll a JavaScript expression (or "() => ..." function) with ``page.evaluate`` until it is truthy.

    Playwright's ``wait_for_function`` compiles its predicate with eval once it has to poll, which the
    pages' Content-Security-Policy (no 'unsafe-eval') refuses; ``page.evaluate`` is not subject to it.
    """
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout / 1000:.0f} s: {expression}")
        page.wait_for_timeout(50)


def fast_settings(settings) -> None:
    """Make polling and retries quick enough for tests; the production values are minutes."""
    settings.ANIMATE_POLL_INITIAL_DELAY = 0.3
    settings.ANIMATE_POLL_MAX_DELAY = 1.0
    settings.ANIMATE_SUBMIT_RETRY_DELAY = 0.2
    settings.RUNWARE_BACKOFF_BASE = 0.05
    settings.RUNWARE_SANDBOX_WEBHOOK_BACKOFF = 0.05


def submit(user, image, video, **choices) -> Generation:
    choices.setdefault("resolution", "480p")
    choices.setdefault("fps", 8)
    return generation_create(membership=membership_for(user), image=image, video=video, choices=choices)


def wait_for(generation: Generation, predicate, timeout: float = 60.0) -> Generation:
    deadline = time.monotonic() + timeout
    while True:
        generation.refresh_from_db()
        if predicate(generation):
            return generation
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; generation is {generation.status}: {generation.error_message}")
        time.sleep(0.1)


def wait_terminal(generation: Generation, timeout: float = 60.0) -> Generation:
    return wait_for(generation, lambda g: g.is_terminal, timeout)


# --- the app in its own process -------------------------------------------------------------------


def _clean_environment(extra: dict[str, str]) -> dict[str, str]:
    import os

    ours = ("DJANGO_", "DATABASE_URL", "REDIS_URL", "ANIMATE_", "RUNWARE_", "DEBUG", "SECRET_KEY", "LOG_")
    return {k: v for k, v in os.environ.items() if not k.startswith(ours)} | extra


def manage(var_dir, env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run ``manage.py`` with ``args`` against the database in ``var_dir``; its output."""
    import subprocess
    import sys

    from django.conf import settings

    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=_clean_environment({"VAR_DIR": str(var_dir), **env}),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


@contextmanager
def app_process(var_dir, env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """uvicorn serving the app in its own process, as ``make run`` starts it: ``(url, log file)``.

    ``env`` is the whole configuration (on top of a clean environment); the database in ``var_dir``
    must already be migrated (``manage``). Everything the process writes goes to the log file.
    """
    import subprocess
    import sys

    import httpx
    from django.conf import settings

    from project.topology import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = Path(var_dir) / "server.log"
    command = [sys.executable, "-m", "uvicorn", "project.asgi:application", "--port", str(port)]
    command += ["--lifespan", "on", "--ws", "websockets-sansio"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and server
            command,
            cwd=settings.BASE_DIR,
            env=_clean_environment({"VAR_DIR": str(var_dir), "PUBLIC_BASE_URL": url, **env}),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(log_path.read_text()) from None
                time.sleep(0.1)
        yield url, log_path
    finally:
        process.terminate()
        process.wait(15)
