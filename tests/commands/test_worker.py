"""``manage.py worker`` as a process: it beats (``manage.py health`` sees it), runs tasks, and stops on
SIGTERM with exit status 0, recorded as stopped."""

import json
import signal
import subprocess
import sys
import time

from django.conf import settings

from tests.livehelpers import _clean_environment, manage


def _health(var_dir, *args: str) -> tuple[int, dict]:
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "health", *args],
        cwd=settings.BASE_DIR,
        env=_clean_environment({"VAR_DIR": str(var_dir), "DEBUG": "1"}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, json.loads(result.stdout)


def test_a_worker_beats_runs_tasks_and_stops_cleanly_on_sigterm(tmp_path):
    env = {"DEBUG": "1", "ANIMATE_WORKER_HEARTBEAT_SECONDS": "0.2"}
    manage(tmp_path, env, "migrate", "--noinput")
    log = tmp_path / "worker.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--worker-id", "w-test", "--interval", "0.1"],
            cwd=settings.BASE_DIR,
            env=_clean_environment({"VAR_DIR": str(tmp_path), **env}),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while _health(tmp_path, "--worker", "w-test")[0] != 0:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        # Started on a new database, it armed the daily reconciliation (as the embedded server does).
        assert "reconcile_daily" in manage(tmp_path, env, "shell", "-c", _QUEUED)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    code, report = _health(tmp_path, "--worker", "w-test")
    assert code == 1 and report["workers"] == []
    assert "stopping (idle)" in log.read_text() and "Worker w-test stopped" in log.read_text()
    status = manage(tmp_path, env, "shell", "-c", _STATUS)
    assert status.strip().splitlines()[-1] == "stopped"


_QUEUED = (
    "from django_tasks_db.models import DBTaskResult; "
    "print([r.task_path for r in DBTaskResult.objects.all()])"
)
_STATUS = (
    "from animate.models import WorkerProcess; print(WorkerProcess.objects.get(worker_id='w-test').status)"
)
