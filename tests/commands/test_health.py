"""``manage.py health``: database, Redis and live workers, as JSON, exit status 1 when unhealthy."""

import json

import pytest
from django.core.management import call_command

from animate.services import workers


def _health(*args: str) -> tuple[int, dict]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("health", *args, stdout=out)
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, json.loads(out.getvalue())


def test_healthy_with_the_database_and_no_workers_required(db, settings):
    settings.REDIS_URL = ""
    code, report = _health()
    assert code == 0
    assert report == {
        "database": "ok",
        "redis": "not used (in-memory channel layer)",
        "workers": [],
        "status": "ok",
    }


def test_missing_workers_are_unhealthy_and_named(db, settings):
    settings.REDIS_URL = ""
    code, report = _health("--min-workers", "1", "--worker", "w-9")
    assert code == 1
    assert report["problems"] == [
        "workers: 0 alive, 1 required",
        "worker w-9: no heartbeat within the lease",
    ]
    workers.worker_register("w-9")
    code, report = _health("--min-workers", "1", "--worker", "w-9")
    assert code == 0 and [w["id"] for w in report["workers"]] == ["w-9"]


def test_an_unreachable_redis_is_unhealthy(db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    code, report = _health()
    assert code == 1 and report["redis"] == "unavailable: ConnectionError"


@pytest.mark.redis
def test_a_reachable_redis_is_healthy(db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/7"
    assert _health()[1]["redis"] == "ok"


def test_a_negative_worker_count_is_refused(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--min-workers"):
        call_command("health", "--min-workers", "-1")
