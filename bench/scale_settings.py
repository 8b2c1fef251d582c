"""Settings of the processes ``bench/scale.py`` starts: the benchmarks' settings, with result videos
fetched over plain HTTP from the local sandbox (DEBUG is off, as in production)."""

from bench.settings import *  # noqa: F403

ANIMATE_ALLOW_HTTP_MEDIA = True
