"""Shared set-up for the benchmarks: a throw-away database and a real server process on a free port."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_django(var_dir: Path, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DEBUG": "1",
        "VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
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
def server(env: dict[str, str], *, workers: int = 1):
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
        process.wait(15)


@contextmanager
def scratch_dir():
    with tempfile.TemporaryDirectory(prefix="animate-bench-") as tmp:
        yield Path(tmp)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
