"""Settings for the test suite: the real settings, read with test defaults in the environment."""

import os
from pathlib import Path

os.environ.setdefault("ANIMATE_TESTING", "1")
os.environ.setdefault("RUNWARE_SANDBOX", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from project.settings import *  # noqa: F403
from project.settings import DATABASES, VAR_DIR

if DATABASES["default"]["ENGINE"] == "animate.sqlite":
    # A file, not :memory:, so the live ASGI server's threads and the test share one database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

# A live server's test ends before the sandbox has put every result to it: those PUTs give up quickly
# instead of holding the shared sandbox's render threads (and every later test's task) for a minute.
RUNWARE_SANDBOX_UPLOAD_RETRY_FOR = 3.0

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = VAR_DIR / f"test-media-{os.getpid()}"

# WhiteNoise serves from the finders in tests; an existing STATIC_ROOT keeps it from warning on every request.
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # noqa: F405

# Every HTML page the suite renders is checked for inline code the Content-Security-Policy would refuse.
MIDDLEWARE = ["tests.inline_code_guard.InlineCodeGuard", *MIDDLEWARE]  # noqa: F405
