"""The acceptance test of budgets that really block: two real server processes on PostgreSQL, 20 concurrent
submits against a budget that fits 3. Exactly the ones that fit are accepted, the rest refused under
``errors.budget``, and the ledger never passes the cap once the accepted runs are charged."""

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import pytest
from django.conf import settings

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parent.parent
SUBMITS = 20
# The driving video lasts 1 s: each run costs $0.0100 at 480p.
TEAM_BUDGET = "0.0300"  # fits 3 runs
ALICE_CAP = "0.0200"  # and at most 2 of them may be Alice's

SEED = """
import json, sys, tempfile
from pathlib import Path
import django
django.setup()
from django.contrib.auth import get_user_model
from django.core.files import File
from rest_framework.authtoken.models import Token
from animate.models import Budget, Membership, Team
from animate.samples import make_character_png, make_driving_video
from animate.services.media import asset_create

team = Team.objects.create(name="Race", slug="race")
users = {}
for name in ("alice", "bob"):
    user = get_user_model().objects.create_user(username=name, password="x")
    Membership.objects.create(user=user, team=team, role="member")
    users[name] = user
Budget.objects.create(team=team, monthly_limit=sys.argv[1])
Budget.objects.create(team=team, user=users["alice"], monthly_limit=sys.argv[2])
folder = Path(tempfile.mkdtemp())
assets = {}
for kind, path in (
    ("image", make_character_png(folder / "c.png", width=160, height=240)),
    ("video", make_driving_video(folder / "d.mp4", seconds=1.0, fps=8, width=160, height=240)),
):
    with open(path, "rb") as handle:
        upload = File(handle, name=path.name)
        assets[kind] = asset_create(team=team, user=users["alice"], kind=kind, uploaded_file=upload).pk
tokens = {name: Token.objects.create(user=user).key for name, user in users.items()}
print(json.dumps({"tokens": tokens, **assets}))
"""


def _admin_url() -> str:
    db = settings.DATABASES["default"]
    return f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER']} dbname=postgres"


def _database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


@pytest.fixture
def database():
    """A freshly created, uniquely named database, dropped afterwards."""
    name = f"animate_budget_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(_admin_url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server at {url} did not start: {log.read_text()[-3000:]}")


def test_twenty_concurrent_submits_on_two_servers_accept_exactly_what_the_budget_fits(database, tmp_path):
    sockets = [_listening_socket(), _listening_socket()]
    urls = [f"http://127.0.0.1:{sock.getsockname()[1]}" for sock in sockets]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "ANIMATE_TESTING": "1",
        "DATABASE_URL": _database_url(database),
        "VAR_DIR": str(tmp_path),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "RUNWARE_SANDBOX": "1",
        # Both servers send tasks to the sandbox in the first one and get their webhooks there.
        "PUBLIC_BASE_URL": urls[0],
        "RUNWARE_MEDIA_HOSTS": "127.0.0.1",
        "EMBEDDED_WORKER": "1",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    python = sys.executable
    migrate = [python, "manage.py", "migrate", "--noinput", "-v0"]
    subprocess.run(migrate, cwd=ROOT, env=env, check=True, timeout=180)  # noqa: S603 - our own interpreter
    seeded = subprocess.run(  # noqa: S603
        [python, "-c", SEED, TEAM_BUDGET, ALICE_CAP],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    seed = json.loads(seeded.stdout.strip().splitlines()[-1])
    servers = []
    try:
        for index, sock in enumerate(sockets):
            log = tmp_path / f"server-{index}.log"
            command = [python, "-m", "uvicorn", "project.asgi:application", "--fd", str(sock.fileno())]
            command += ["--lifespan", "on", "--ws", "websockets-sansio", "--log-level", "warning"]
            handle = log.open("w")
            servers.append(
                (
                    subprocess.Popen(  # noqa: S603
                        command, cwd=ROOT, env=env, pass_fds=[sock.fileno()], stdout=handle, stderr=handle
                    ),
                    log,
                )
            )
        for url, (process, log) in zip(urls, servers, strict=True):
            _wait_healthy(url, process, log)

        start = threading.Barrier(SUBMITS)
        body = {
            "image": seed["image"],
            "video": seed["video"],
            "parameters": {"resolution": "480p", "fps": 8},
        }

        def submit(index: int) -> tuple[str, httpx.Response]:
            who = ("alice", "bob")[index % 2]
            start.wait()
            # Alice and Bob alternate, and each of them sends to both servers.
            response = httpx.post(
                f"{urls[(index // 2) % 2]}/api/generations/",
                json=body,
                headers={"Authorization": f"Token {seed['tokens'][who]}"},
                timeout=60,
            )
            return who, response

        with ThreadPoolExecutor(SUBMITS) as pool:
            results = list(pool.map(submit, range(SUBMITS)))

        accepted = [(who, response) for who, response in results if response.status_code == 201]
        refused = [response for _, response in results if response.status_code != 201]
        assert len(accepted) == 3, [(r.status_code, r.text[:200]) for _, r in results]
        assert sum(1 for who, _ in accepted if who == "alice") <= 2
        assert len(refused) == SUBMITS - 3
        for response in refused:
            assert response.status_code == 400, response.text
            (message,) = response.json()["errors"]["budget"]
            assert "Over budget" in message and "left of $0.0" in message and "It resets on" in message

        # The accepted runs are sent, charged and finished by the servers' own workers.
        deadline = time.monotonic() + 120
        with psycopg.connect(_database_url(database).replace("postgres://", "postgresql://")) as db:
            while True:
                statuses = [row[0] for row in db.execute("SELECT status FROM animate_generation").fetchall()]
                if len(statuses) == 3 and all(status in {"done", "failed"} for status in statuses):
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"runs did not finish: {statuses}; {servers[0][1].read_text()[-2000:]}"
                    )
                time.sleep(0.5)
                db.commit()
            spent, entries = db.execute(
                "SELECT COALESCE(SUM(amount), 0), COUNT(*) FROM animate_costentry"
            ).fetchone()
            held = db.execute("SELECT COALESCE(SUM(reserved_cost), 0) FROM animate_generation").fetchone()[0]
        assert statuses == ["done"] * 3
        assert Decimal(spent) <= Decimal(TEAM_BUDGET) and Decimal(spent) == Decimal("0.0300") and entries == 3
        assert Decimal(held) == 0
    finally:
        for process, _ in servers:
            process.terminate()
        for process, _ in servers:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        for sock in sockets:
            sock.close()
