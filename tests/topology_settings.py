"""Settings of the processes the topology tests start: the real settings, with the timings the tests
need shortened through the environment (production reads these from the code's defaults)."""

import os

from project.settings import *  # noqa: F403

for _name in (
    "ANIMATE_POLL_INITIAL_DELAY",
    "ANIMATE_POLL_MAX_DELAY",
    "ANIMATE_SUBMIT_RETRY_DELAY",
    "RUNWARE_BACKOFF_BASE",
    "RUNWARE_SANDBOX_WEBHOOK_BACKOFF",
):
    if _name in os.environ:
        globals()[_name] = float(os.environ[_name])
