"""Capacity of the scaled topology, side by side in one run (project/topology.py on PostgreSQL + Redis):

- webhooks answered per second with 1 and with 2 web processes (the bodies stored, applied by workers);
- generations finished per minute with 1 and with 2 worker processes (the standalone sandbox rendering
  with no injected delay: its real PyAV render of a tiny input);
- event latency, webhook -> last socket, through Redis with the sockets spread over both web processes.

Every figure is of this machine, where all the processes share its cores with PostgreSQL, Redis and
the load generator; on separate machines each process has its own.
Run: .venv/bin/python -m bench.scale [--webhooks 2000] [--generations 12] [--sockets 100] [--samples 60]
"""

import argparse
import asyncio
import json
import os
import time
import uuid
from pathlib import Path

import httpx
import websockets

from bench._harness import percentile, postgres_database, scratch_dir, setup_django
from bench.event_latency import _arrivals
from bench.fixtures import make_team_and_generations
from project.topology import Topology

REDIS_URL = "redis://127.0.0.1:6379/6"


def _topology(tmp: Path, database_url: str, env: dict[str, str], *, webs: int, workers: int) -> Topology:
    from django.conf import settings

    topology = Topology(
        database_url=database_url,
        redis_url=REDIS_URL,
        redis_prefix=f"bench-scale-{os.getpid()}-{uuid.uuid4().hex[:6]}",
        var_dir=tmp / f"topology-{webs}-{workers}",
        log_dir=tmp / f"logs-{webs}-{workers}",
        webs=webs,
        workers=workers,
        s3=False,  # one machine: the processes share its disk
        env={
            "DJANGO_SETTINGS_MODULE": "bench.scale_settings",
            "DEBUG": "0",
            "SECRET_KEY": env["SECRET_KEY"],  # this process's session cookies are valid in every process
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "LOG_LEVEL": "WARNING",
        },
    )
    topology.start_all()
    return topology


async def _hammer(urls: list[str], bodies: list[bytes], concurrency: int) -> float:
    """POST every body, spread round-robin over ``urls``; bodies answered per second."""
    queue = list(enumerate(bodies))
    async with httpx.AsyncClient(timeout=60) as client:

        async def worker() -> None:
            while queue:
                index, body = queue.pop()
                response = await client.post(
                    urls[index % len(urls)], content=body, headers={"Content-Type": "application/json"}
                )
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(bodies) / (time.perf_counter() - started)


def _webhook_bodies(generations, count: int) -> list[tuple[str, bytes]]:
    """(path, body) pairs spread over the generations; each body distinct, so none is a duplicate."""
    bodies = []
    for index in range(count):
        generation, secret = generations[index % len(generations)]
        item = {
            "taskType": "videoInference",
            "taskUUID": str(generation.task_uuid),
            "status": "processing",
            "videoUUID": str(uuid.uuid4()),
        }
        bodies.append((f"/hooks/runware/{generation.pk}/{secret}/", json.dumps({"data": [item]}).encode()))
    return bodies


async def _hammer(urls: list[str], bodies: list[tuple[str, bytes]], concurrency: int) -> float:
    """POST every body, spread round-robin over the web processes at ``urls``; bodies answered per second."""
    queue = list(enumerate(bodies))
    async with httpx.AsyncClient(timeout=60) as client:

        async def worker() -> None:
            while queue:
                index, (path, body) = queue.pop()
                response = await client.post(
                    urls[index % len(urls)] + path, content=body, headers={"Content-Type": "application/json"}
                )
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(bodies) / (time.perf_counter() - started)


def _drained(timeout: float = 600) -> None:
    """Wait until the workers have applied every stored webhook body (so the next phase starts quiet)."""
    from animate.models import WebhookEvent

    deadline = time.monotonic() + timeout
    while WebhookEvent.objects.filter(status__in=["received", "processing"]).exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not apply the webhook bodies within 10 minutes")
        time.sleep(0.2)


def generations_per_minute(user, image, video, *, count: int) -> float:
    from animate.models import Generation
    from animate.services.generations import generation_create
    from animate.services.teams import membership_for

    membership = membership_for(user)
    started = time.perf_counter()
    ids = [
        generation_create(
            membership=membership, image=image, video=video, choices={"resolution": "480p", "fps": 8}
        ).pk
        for _ in range(count)
    ]
    deadline = time.monotonic() + 600
    while Generation.objects.filter(pk__in=ids, status__in=["done", "failed"]).count() < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the generations did not finish within 10 minutes")
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    failed = Generation.objects.filter(pk__in=ids, status="failed").count()
    if failed:
        raise RuntimeError(f"{failed} generation(s) failed")
    return count / elapsed * 60


async def _latency(urls: list[str], cookie: str, generations, sockets: int) -> list[float]:
    connections = []
    for index in range(sockets):
        url = urls[index % len(urls)]  # spread over every web process
        connection = await websockets.connect(
            url.replace("http", "ws", 1) + "/ws/generations/",
            origin=url,
            additional_headers={"Cookie": cookie},
            proxy=None,
            max_queue=None,
        )
        await connection.recv()  # the snapshot
        connections.append(connection)
    samples = []
    async with httpx.AsyncClient(timeout=30) as client:
        for number, (generation, secret) in enumerate(generations):
            body = {
                "data": [
                    {
                        "taskType": "videoInference",
                        "taskUUID": str(generation.task_uuid),
                        "status": "processing",
                    }
                ]
            }
            waiting = asyncio.create_task(
                _arrivals(
                    connections,
                    lambda m, pk=generation.pk: m.get("id") == pk and m.get("status") == "processing",
                )
            )
            started = time.perf_counter()
            hook = f"{urls[number % len(urls)]}/hooks/runware/{generation.pk}/{secret}/"
            (await client.post(hook, json=body)).raise_for_status()
            samples.append((await waiting - started) * 1000)
    for connection in connections:
        await connection.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--webhooks", type=int, default=1000, help="webhooks per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of 1 then 2 web processes (median)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--generations", type=int, default=10)
    parser.add_argument("--sockets", type=int, default=100)
    parser.add_argument("--samples", type=int, default=60)
    args = parser.parse_args()
    with scratch_dir() as tmp, postgres_database() as database_url:
        env = setup_django(tmp, {"DATABASE_URL": database_url})
        user, generations = make_team_and_generations(tmp, 20 + args.samples)
        hooked, fresh = generations[:20], generations[20:]
        from django.conf import settings
        from django.test import Client

        client = Client()
        client.force_login(user)
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        # One topology of 2 web processes and 2 workers; "1 web process" is the traffic sent to one of
        # them, "1 worker" the topology once the second worker is stopped.
        topology = _topology(tmp, database_url, env, webs=2, workers=2)
        try:
            urls = [topology.services[n].url for n in ("web-a", "web-b")]
            asyncio.run(_hammer(urls, _webhook_bodies(hooked, 200), args.concurrency))  # warm-up
            webhooks: dict[int, list[float]] = {1: [], 2: []}
            for _ in range(args.rounds):
                for webs in (1, 2):
                    bodies = _webhook_bodies(hooked, args.webhooks)
                    webhooks[webs].append(asyncio.run(_hammer(urls[:webs], bodies, args.concurrency)))
                    print(f"webhooks/s, {webs} web process(es): {webhooks[webs][-1]:.0f}", flush=True)
            _drained()
            latency = asyncio.run(_latency(urls, cookie, fresh, args.sockets))
            print(f"event latency measured over {len(latency)} samples", flush=True)
            image, video = hooked[0][0].image, hooked[0][0].video
            per_minute = {2: generations_per_minute(user, image, video, count=args.generations)}
            print(f"generations/min, 2 workers: {per_minute[2]:.1f}", flush=True)
            topology.stop("worker-2")
            per_minute[1] = generations_per_minute(user, image, video, count=args.generations)
            print(f"generations/min, 1 worker: {per_minute[1]:.1f}", flush=True)
        finally:
            topology.stop_all()

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    rates = {("webhooks", n): median(webhooks[n]) for n in (1, 2)}
    rates |= {("generations", n): per_minute[n] for n in (1, 2)}
    print()
    print(f"{'':34}{'1 process':>12}{'2 processes':>14}{'ratio':>8}")
    rows = (("webhooks", "webhooks answered /s (median)"), ("generations", "generations finished /min"))
    for key, label in rows:
        one, two = rates[(key, 1)], rates[(key, 2)]
        print(f"{label:34}{one:12.1f}{two:14.1f}{two / one:8.2f}")
    print(
        f"event latency via Redis, {args.sockets} sockets over 2 web processes, {len(latency)} samples: "
        f"p50 {percentile(latency, 0.5):.1f} ms  p99 {percentile(latency, 0.99):.1f} ms"
    )


if __name__ == "__main__":
    main()
