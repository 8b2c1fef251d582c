"""The scaled topology as processes (project/topology.py): two web processes, two workers and the
standalone sandbox on PostgreSQL and Redis, with pieces of it killed and restarted while work is in
flight. The database checked here is the one the processes use (this test's PostgreSQL database).
"""

import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum
from django.test import Client
from django_tasks_db.models import DBTaskResult
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from animate import tasks
from animate.models import CostEntry, Generation, Output, WebhookEvent, WorkerProcess
from animate.runware.client import RunwareClient
from project.topology import Topology, free_port, ports_in_use
from tests.livehelpers import submit

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    # One topology at a time on the machine: they are several processes each.
    pytest.mark.xdist_group("topology"),
    pytest.mark.timeout(600),
    pytest.mark.django_db(transaction=True),
]

REDIS_SERVER = "/usr/bin/redis-server"
# The worker tests need a result that is downloaded (slowly) from videoURL: not put by uploadEndpoint.
BY_DOWNLOAD = {"ANIMATE_RESULT_UPLOADS": "0"}


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def topology(settings, tmp_path: Path) -> Iterator[Callable[..., Topology]]:
    """Starts a topology on this test's database and media folder; everything is stopped afterwards."""
    started: list[Topology] = []

    def start(
        *,
        redis_url: str = "redis://127.0.0.1:6379/7",
        env: dict[str, str] | None = None,
        grace: float = 10,
        s3: bool = False,
    ) -> Topology:
        shared = {
            "DJANGO_SETTINGS_MODULE": "tests.topology_settings",
            # The test's own session cookies and files must be valid in every process.
            "SECRET_KEY": settings.SECRET_KEY,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "ANIMATE_WORKER_HEARTBEAT_SECONDS": "0.5",
            "ANIMATE_WORKER_LEASE_SECONDS": "4",
            "ANIMATE_POLL_INITIAL_DELAY": "1",
            "ANIMATE_POLL_MAX_DELAY": "2",
            "ANIMATE_SUBMIT_RETRY_DELAY": "0.5",
            "RUNWARE_BACKOFF_BASE": "0.1",
            "RUNWARE_SANDBOX_WEBHOOK_BACKOFF": "0.2",
        }
        topology = Topology(
            database_url=_database_url(),
            redis_url=redis_url,
            redis_prefix=f"animate-topology-{os.getpid()}-{secrets.token_hex(3)}",
            var_dir=tmp_path / "topology",
            log_dir=tmp_path / "logs",
            # Without S3 the processes share this machine's disk (MEDIA_ROOT above).
            s3=s3,
            env=shared | (env or {}),
            worker_grace=grace,
        )
        started.append(topology)
        topology.start_all()
        return topology

    yield start
    for topology in started:
        topology.stop_all()
        # Shown by pytest only when the test failed: what each process said.
        for name in topology.services:
            print(f"===== {name} =====\n{topology.log(name)[-6000:]}")


def _cookie(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _socket(url: str, cookie: str) -> ClientConnection:
    return connect(
        url.replace("http", "ws", 1) + "/ws/generations/",
        origin=url,
        additional_headers={"Cookie": cookie},
        proxy=None,
        open_timeout=10,
    )


def _until(ws: ClientConnection, predicate: Callable[[dict], bool], timeout: float = 120) -> list[dict]:
    """Messages received until one matches ``predicate`` (included); fails after ``timeout``."""
    seen: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        except TimeoutError:
            break
        seen.append(message)
        if predicate(message):
            return seen
    raise AssertionError(
        f"not received within {timeout:.0f} s; saw {[(m.get('type'), m.get('status')) for m in seen]}"
    )


def _wait(condition: Callable[[], Any], timeout: float = 120, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _terminal(generation: Generation, timeout: float = 180) -> Generation:
    def done() -> bool:
        generation.refresh_from_db()
        return generation.is_terminal

    _wait(done, timeout, f"generation {generation.pk} to finish")
    return generation


def _is(generation: Generation, status: str) -> Callable[[dict], bool]:
    return lambda m: (
        m.get("type") == "generation.status" and m.get("id") == generation.pk and m["status"] == status
    )


def _assert_counted_once(generation: Generation, results: int) -> None:
    """Every result stored once, charged once, and the generation's cost is the ledger's sum."""
    generation.refresh_from_db()
    assert generation.status == "done", generation.error_message
    outputs = Output.objects.filter(generation=generation)
    assert outputs.count() == results
    assert outputs.values("video_uuid").distinct().count() == results
    entries = CostEntry.objects.filter(generation=generation, kind=CostEntry.Kind.RESULT)
    assert entries.count() == results
    assert entries.values("key").annotate(n=Count("id")).filter(n__gt=1).count() == 0
    total = entries.aggregate(total=Sum("amount"))["total"]
    assert generation.actual_cost == total and total > Decimal(0)


def test_a_webhook_received_by_web_a_reaches_a_socket_on_web_b_in_the_order_published(
    topology, member, image_asset, video_asset
):
    scaled = topology()
    web_a, web_b = scaled.services["web-a"].url, scaled.services["web-b"].url
    assert scaled.app_env["PUBLIC_BASE_URL"] == web_a  # webhooks reach web A only
    with _socket(web_b, _cookie(member)) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "snapshot"
        generation = submit(member, image_asset, video_asset, numberResults=2)
        seen = _until(ws, _is(generation, "done"))
    ours = [m for m in seen if m.get("id") == generation.pk]
    statuses = [m for m in ours if m["type"] == "generation.status"]
    # Published in the order the workers committed: the lifecycle never goes back, results only grow.
    assert [Generation.ORDER[m["status"]] for m in statuses] == sorted(
        Generation.ORDER[m["status"]] for m in statuses
    )
    received = [m["results_received"] for m in statuses]
    assert received == sorted(received) and received[-1] == 2
    outputs = [index for index, m in enumerate(ours) if m["type"] == "generation.output"]
    assert len(outputs) == 2 and max(outputs) < ours.index(statuses[-1])
    assert WebhookEvent.objects.filter(generation=generation).exists()
    _assert_counted_once(generation, 2)


def test_two_workers_never_apply_one_webhook_event_or_poll_result_twice(
    topology, member, image_asset, video_asset
):
    scaled = topology()
    # Every webhook three times plus a stale one after each success, and polls every second: both workers
    # see every result several times, from webhooks and from polls.
    generations = [
        submit(
            member, image_asset, video_asset, numberResults=2, positivePrompt="x [sandbox:duplicate=3,late]"
        )
        for _ in range(3)
    ]
    for generation in generations:
        _terminal(generation)
    _wait(
        lambda: not WebhookEvent.objects.filter(status__in=["received", "processing"]).exists(),
        60,
        "every webhook body to be applied",
    )
    for generation in generations:
        _assert_counted_once(generation, 2)
    # A body's copies are stored once (their count kept on it); each stored body was applied once.
    created = 0
    for event in WebhookEvent.objects.filter(generation__in=generations):
        assert event.status in ("processed", "ignored"), (event.status, event.detail)
        created += int(event.detail.split(" new output")[0] or 0) if " new output" in event.detail else 0
    assert created <= Output.objects.count() == 6
    # Task counts are written with each worker's next heartbeat.
    _wait(lambda: sum(WorkerProcess.objects.values_list("tasks_done", flat=True)) > 0, 30, "the task counts")
    assert all(scaled.services[name].alive() for name in ("worker-1", "worker-2"))


def _worker_running(generation: Generation) -> WorkerProcess | None:
    """The worker whose current task is about this generation (its heartbeat names the task)."""
    downloading = (tasks.process_webhook_events.module_path, tasks.poll_generation.module_path)
    for worker in WorkerProcess.objects.filter(status="running").exclude(task_id=""):
        result = DBTaskResult.objects.filter(id=worker.task_id).first()
        if result and result.task_path in downloading and result.args_kwargs["args"][:1] == [generation.pk]:
            return worker
    return None


def test_a_worker_killed_mid_download_is_taken_over_after_its_lease(
    topology, member, image_asset, video_asset
):
    # Polls only long after the webhook, so exactly one worker is downloading when it is killed.
    scaled = topology(
        env={"ANIMATE_POLL_INITIAL_DELAY": "120", "ANIMATE_POLL_MAX_DELAY": "120", **BY_DOWNLOAD}
    )
    generation = submit(member, image_asset, video_asset, positivePrompt="x [sandbox:slow_download=6000]")
    _wait(
        lambda: Generation.objects.filter(pk=generation.pk, status="receiving").exists(), 120, "the download"
    )
    victim = _wait(lambda: _worker_running(generation), 60, "the downloading worker")
    name = next(n for n in ("worker-1", "worker-2") if victim.worker_id.startswith(n + "-"))
    scaled.kill(name)
    killed_at = time.monotonic()

    _terminal(generation, 240)
    _assert_counted_once(generation, 1)
    victim.refresh_from_db()
    assert victim.status == "lost"  # taken over by the other worker once its lease ran out
    assert time.monotonic() - killed_at >= 4
    survivor = WorkerProcess.objects.exclude(pk=victim.pk).get(status="running")
    # Its count is written with its next heartbeat, which may come just after the generation ended.
    _wait(lambda: WorkerProcess.objects.get(pk=survivor.pk).tasks_done > 0, 30, "the survivor's task count")
    assert "Took over from lost worker" in scaled.log("worker-1" if name == "worker-2" else "worker-2")


def test_sigterm_lets_a_worker_hand_back_its_task_and_stop(topology, member, image_asset, video_asset):
    scaled = topology(
        env={"ANIMATE_POLL_INITIAL_DELAY": "120", "ANIMATE_POLL_MAX_DELAY": "120", **BY_DOWNLOAD}, grace=1
    )
    # A download far longer than the grace period: the worker must hand it back, not sit on it.
    generation = submit(member, image_asset, video_asset, positivePrompt="x [sandbox:slow_download=12000]")
    victim = _wait(lambda: _worker_running(generation), 120, "the downloading worker")
    name = next(n for n in ("worker-1", "worker-2") if victim.worker_id.startswith(n + "-"))
    task_id = victim.task_id
    assert scaled.stop(name, timeout=30) == 0
    victim.refresh_from_db()
    assert victim.status == "stopped" and victim.task_id == ""
    assert "handed task" in scaled.log(name)
    # Handed back, not abandoned: the same task is run again by the other worker, at once (no lease wait).
    _wait(
        lambda: len(DBTaskResult.objects.get(id=task_id).worker_ids) == 2,
        60,
        "the task to be claimed by the other worker",
    )
    _terminal(generation, 240)
    _assert_counted_once(generation, 1)
    # The handed-back run (polls are two minutes off) applied the body itself: its claim went back with it.
    _wait(
        lambda: DBTaskResult.objects.get(id=task_id).status == "SUCCESSFUL", 60, "the handed-back task to end"
    )
    assert DBTaskResult.objects.get(id=task_id).return_value == "drained"


def test_a_killed_web_process_socket_reconnects_to_the_other_and_gets_the_snapshot(
    topology, member, image_asset, video_asset
):
    scaled = topology()
    cookie = _cookie(member)
    generation = submit(member, image_asset, video_asset, positivePrompt="x [sandbox:delay=4]")
    with _socket(scaled.services["web-b"].url, cookie) as ws:
        _until(ws, lambda m: m.get("type") == "snapshot", 10)
        scaled.kill("web-b")
        with pytest.raises(ConnectionClosed):
            while True:
                ws.recv(timeout=30)
    # The browser's reconnect lands on the other process (the load balancer's job): snapshot first.
    with _socket(scaled.services["web-a"].url, cookie) as ws:
        snapshot = json.loads(ws.recv(timeout=10))
        assert snapshot["type"] == "snapshot"
        assert generation.pk in [item["id"] for item in snapshot["generations"]]
        if not Generation.objects.get(pk=generation.pk).is_terminal:
            _until(ws, _is(generation, "done"))
    _terminal(generation)
    _assert_counted_once(generation, 1)


class RedisServer:
    """A redis-server of this test's own on a free port, which it may stop and start again."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.folder)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        _wait(lambda: _answers(self.port), 20, "redis-server to start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(20)


def _answers(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(port=port, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.skipif(
    not Path(REDIS_SERVER).exists() and os.environ.get("CI", "").lower() != "true",
    reason="redis-server is not installed (.ci/run installs it; required when CI=true)",
)
def test_redis_restarted_mid_generation_live_events_resume_and_the_database_is_complete(
    topology, tmp_path, member, image_asset, video_asset
):
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        scaled = topology(redis_url=server.url)
        with _socket(scaled.services["web-b"].url, _cookie(member)) as ws:
            _until(ws, lambda m: m.get("type") == "snapshot", 10)
            generation = submit(member, image_asset, video_asset, positivePrompt="x [sandbox:delay=8]")
            _until(ws, _is(generation, "submitted"))  # live events flow through this Redis
            server.stop()
            # Down while the sandbox is still rendering; the work goes on without Redis.
            _wait(lambda: not _answers(server.port), 10, "redis-server to stop")
            time.sleep(1)  # an outage, not an assertion
            server.start()
            seen = _until(ws, _is(generation, "done"), 180)
        # After the restart, events reached the socket again (the done at least).
        assert any(m.get("id") == generation.pk for m in seen)
        _terminal(generation)
        _assert_counted_once(generation, 1)
        assert "live events resume" in scaled.log("web-b")
    finally:
        server.stop()


def test_a_sandbox_restarted_mid_task_still_completes_the_generation(
    topology, member, image_asset, video_asset
):
    scaled = topology()
    generation = submit(member, image_asset, video_asset, positivePrompt="x [sandbox:delay=5]")
    _wait(lambda: Generation.objects.filter(pk=generation.pk, status="submitted").exists(), 120, "the submit")
    scaled.kill("sandbox")  # as a crash would: only what its state file holds survives
    scaled.start("sandbox")
    # The restarted sandbox knows the task it accepted, as Runware would.
    with RunwareClient(api_url=scaled.services["sandbox"].url, api_key=scaled.sandbox_key) as client:
        batch = client.get_response(str(generation.task_uuid))
    assert [item["taskUUID"] for item in batch.data] == [str(generation.task_uuid)]
    _terminal(generation, 180)
    _assert_counted_once(generation, 1)
    assert "resuming task" in scaled.log("sandbox")
    assert httpx.get(scaled.services["sandbox"].health, timeout=5).status_code == 200


def test_with_media_in_the_bucket_a_run_goes_from_upload_to_played_result_across_the_processes(
    topology, member, tmp_path
):
    import boto3
    from rest_framework.authtoken.models import Token

    from animate.samples import make_character_png, make_driving_video

    scaled = topology(s3=True)
    web_a, web_b, bucket_url = (scaled.services[name].url for name in ("web-a", "web-b", "s3"))
    headers = {"Authorization": f"Token {Token.objects.create(user=member).key}"}
    inputs = {
        "image": (make_character_png(tmp_path / "hero.png", width=120, height=180), "image/png"),
        "video": (
            make_driving_video(tmp_path / "moves.mp4", seconds=1, fps=8, width=120, height=180),
            "video/mp4",
        ),
    }
    ids = {}
    for kind, (path, content_type) in inputs.items():
        with path.open("rb") as handle:
            answer = httpx.post(
                f"{web_b}/api/assets/",
                headers=headers,
                data={"kind": kind},
                files={"file": (path.name, handle, content_type)},
                timeout=60,
            )
        assert answer.status_code == 201, answer.text
        ids[kind] = answer.json()["id"]

    answer = httpx.post(
        f"{web_a}/api/generations/",
        headers=headers,
        json={"image": ids["image"], "video": ids["video"], "parameters": {"resolution": "480p", "fps": 8}},
        timeout=60,
    )
    assert answer.status_code == 201, answer.text
    generation = _terminal(Generation.objects.get(pk=answer.json()["id"]))

    _assert_counted_once(generation, 1)
    output = Output.objects.get(generation=generation)
    bucket = boto3.client(
        "s3",
        endpoint_url=bucket_url,
        aws_access_key_id="topology",
        aws_secret_access_key="topology-secret",
        region_name="us-east-1",
    )
    keys = [item["Key"] for item in bucket.list_objects_v2(Bucket=scaled.bucket).get("Contents", [])]
    assert any(key.endswith(output.file.name) for key in keys), keys
    # Either web process serves it: access checked, then a short-lived presigned GET of the bucket.
    media = httpx.get(f"{web_b}/m/outputs/{output.pk}/file", headers=headers, timeout=30)
    assert media.status_code == 302 and media.headers["location"].startswith(bucket_url)
    played = httpx.get(media.headers["location"], timeout=30)
    assert played.status_code == 200 and played.content[4:8] == b"ftyp"
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.mp4"))  # nothing on the shared disk


def test_make_run_scaled_starts_everything_with_the_demo_media_in_the_bucket_and_ctrl_c_stops_it(tmp_path):
    import sys

    port = free_port(4)  # two web processes, the sandbox and the S3 server
    command = [sys.executable, "-m", "project.topology", "--database-url", _database_url()]
    command += ["--redis-prefix", f"animate-run-scaled-{os.getpid()}", "--port", str(port)]
    command += ["--var-dir", str(tmp_path / "scaled")]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "AWS_"))}
    process = subprocess.Popen(  # noqa: S603 - our own launcher, arguments built here
        command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "Ctrl-C stops everything" in line or "Traceback" in line:
                break
        assert "Scaled topology running" in "".join(lines), "".join(lines)[-4000:]
        # Running at all means demo_setup could store its sample media: the bucket was up before it.
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, rest[-4000:]
    assert "Stopped." in rest


def test_free_ports_come_in_a_free_block_below_the_ephemeral_range():
    # Ports of the ephemeral range are handed to outgoing connections at any moment: a neighbour of a
    # port found free there, or a port released for a restart, may be taken before our process binds it.
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    first = free_port(4)
    assert first >= 10000 and first + 4 <= low
    assert ports_in_use(list(range(first, first + 4))) == []


def test_the_launcher_refuses_a_port_in_use_before_starting_anything(tmp_path):
    import socket
    import sys

    port = free_port(4)
    with socket.socket() as held:
        held.bind(("127.0.0.1", port + 1))
        held.listen()
        command = [sys.executable, "-m", "project.topology", "--database-url", _database_url()]
        command += ["--port", str(port), "--var-dir", str(tmp_path / "scaled")]
        result = subprocess.run(  # noqa: S603 - our own launcher, arguments built here
            command, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 1
    assert f"Port {port + 1} is already in use" in result.stderr
    assert f"needs ports {port}-{port + 3}" in result.stderr
    assert not (tmp_path / "scaled").exists()  # nothing was started or written
