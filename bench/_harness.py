"""Shared set-up for the benchmarks: a throw-away database and a real server process on a free port."""

import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from project.topology import free_port

ROOT = Path(__file__).resolve().parent.parent


def setup_django(var_dir: Path, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    # The server runs as in production (DEBUG off: no query log, no debug cursors), over plain HTTP on
    # loopback, in embedded mode (the worker threads inside the server).
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        # No Runware here: the generations are driven by the benchmark's own webhooks. The one poll each
        # gets when the server starts is refused at once (the discard port); see bench/settings.py.
        "RUNWARE_API_KEY": "bench-unused",
        "RUNWARE_API_URL": "http://127.0.0.1:9/v1",
        "RUNWARE_MAX_RETRIES": "0",
        "VAR_DIR": str(var_dir),
        "LOG_LEVEL": "ERROR",
        **(extra_env or {}),
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


@contextmanager
def server(env: dict[str, str], *, workers: int = 1, pids: list[int] | None = None):
    """A uvicorn server process on a free port, yielding its URL (its pid appended to ``pids``)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "project.asgi:application",
        "--port",
        str(port),
        "--lifespan",
        "on",
        "--log-level",
        "warning",
        "--no-access-log",
        "--ws",
        "websockets-sansio",  # as `make run` serves
        "--workers",
        str(workers),
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=os.environ | env | {"PUBLIC_BASE_URL": url})
    if pids is not None:
        pids.append(process.pid)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()  # still closing hundreds of sockets: its work is done
            process.wait(15)


@contextmanager
def scratch_dir():
    with tempfile.TemporaryDirectory(prefix="animate-bench-") as tmp:
        yield Path(tmp)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@contextmanager
def postgres_database(base_url: str = "postgres://postgres@127.0.0.1:5432"):
    """A throw-away PostgreSQL database of this run (named after the pid): its URL, dropped afterwards."""
    import psycopg

    name = f"animate_bench_{os.getpid()}"
    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base_url}/{name}"
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{base_url}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
