"""Suite-wide fixtures: a real ASGI server in a thread, service availability, CI strictness."""

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group markers added here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip service-dependent tests when the service is missing, except in CI where they must run."""
    from django.conf import settings

    checks = {
        "redis": (_reachable("127.0.0.1", 6379), "Redis is not running on 127.0.0.1:6379 (see README)"),
        "postgres": (
            settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
            "run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/test (make test does this)",
        ),
        "browser": (
            shutil.which("chromium") is not None or os.path.exists("/usr/bin/chromium"),
            "Chromium is missing: install it with `sudo apt-get install -y chromium`",
        ),
    }
    for item in items:
        if "browser" in item.keywords and item.get_closest_marker("xdist_group") is None:
            # One Chromium at a time: under pytest-xdist the browser tests share one worker.
            item.add_marker(pytest.mark.xdist_group("browser"))
        for marker, (available, why) in checks.items():
            if marker in item.keywords and not available:
                if IN_CI:
                    item.add_marker(pytest.mark.missing_in_ci(why))
                else:
                    item.add_marker(pytest.mark.skip(reason=why))


@pytest.fixture(autouse=True)
def _required_in_ci(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("missing_in_ci")
    if marker is not None:
        pytest.fail(f"required when CI=true, but missing: {marker.args[0]}")


class LiveASGIServer:
    """uvicorn serving project.asgi in a background thread, lifespan included (embedded worker)."""

    def __init__(self) -> None:
        import uvicorn

        from project.asgi import application

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._sock = sock
        config = uvicorn.Config(application, lifespan="on", log_level="warning", ws="websockets-sansio")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live ASGI server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20)
        self._sock.close()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: object) -> Iterator[None]:
    """pytest-django's, plus: on PostgreSQL, the connections other threads left open (the live servers'
    executors, the embedded worker) are closed first, or the test database could not be dropped."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture(autouse=True)
def _live_server_helper() -> Iterator[None]:
    """Shadows pytest-django's helper of the same name, which assumes its own (WSGI) live_server."""
    yield


@pytest.fixture
def live_server(transactional_db: None, settings: object) -> Iterator[LiveASGIServer]:
    """A real uvicorn server on a free port, PUBLIC_BASE_URL and RUNWARE_API_URL pointing at it.

    The sandbox is mounted in it (settings.RUNWARE_SANDBOX) and the embedded worker threads run.
    """
    server = LiveASGIServer()
    settings.PUBLIC_BASE_URL = server.url  # type: ignore[attr-defined]
    settings.RUNWARE_API_URL = f"{server.url}/sandbox/v1"  # type: ignore[attr-defined]
    settings.RUNWARE_MEDIA_HOSTS = ["127.0.0.1"]  # type: ignore[attr-defined]
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]  # type: ignore[attr-defined]
    settings.CSRF_TRUSTED_ORIGINS = [server.url]  # type: ignore[attr-defined]
    server.start()
    try:
        yield server
    finally:
        server.stop()
