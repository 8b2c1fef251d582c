"""Helpers for tests that run whole generations through a live server and the sandbox."""

import time

from animate.models import Generation
from animate.services.generations import generation_create
from animate.services.teams import membership_for


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
