"""The app's settings, plus the benchmarks' own endpoints (``bench/urls.py``); used by bench servers only."""

from project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# The next poll of a generation is an hour off: nothing but the benchmark's webhooks moves it.
ANIMATE_POLL_INITIAL_DELAY = 3600
