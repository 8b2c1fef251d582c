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


def webhooks_per_second(
    tmp, database_url, env, generation, secret, *, webs: int, count: int, concurrency: int
):
    def body() -> bytes:
        item = {
            "taskType": "videoInference",
            "taskUUID": str(generation.task_uuid),
            "status": "processing",
            "videoUUID": str(uuid.uuid4()),  # a distinct body each time: none is a duplicate
        }
        return json.dumps({"data": [item]}).encode()

    topology = _topology(tmp, database_url, env, webs=webs, workers=2)
    try:
        urls = [
            f"{topology.services[n].url}/hooks/runware/{generation.pk}/{secret}/"
            for n in topology.services
            if n.startswith("web-")
        ]
        asyncio.run(_hammer(urls, [body() for _ in range(200)], concurrency))  # warm-up
        return asyncio.run(_hammer(urls, [body() for _ in range(count)], concurrency))
    finally:
        topology.stop_all()


def generations_per_minute(tmp, database_url, env, user, image, video, *, workers: int, count: int) -> float:
    from animate.models import Generation
    from animate.services.generations import generation_create
    from animate.services.teams import membership_for

    topology = _topology(tmp, database_url, env, webs=1, workers=workers)
    try:
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
            raise RuntimeError(f"{failed} generation(s) failed; see {topology.log_dir}")
        return count / elapsed * 60
    finally:
        topology.stop_all()


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
    parser.add_argument("--webhooks", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--generations", type=int, default=12)
    parser.add_argument("--sockets", type=int, default=100)
    parser.add_argument("--samples", type=int, default=60)
    args = parser.parse_args()
    with scratch_dir() as tmp, postgres_database() as database_url:
        env = setup_django(tmp, {"DATABASE_URL": database_url})
        user, generations = make_team_and_generations(tmp, 1 + args.samples)
        (hooked, secret), fresh = generations[0], generations[1:]
        from django.conf import settings
        from django.test import Client

        rates = {}
        for webs in (1, 2):
            rates[("webhooks", webs)] = webhooks_per_second(
                tmp,
                database_url,
                env,
                hooked,
                secret,
                webs=webs,
                count=args.webhooks,
                concurrency=args.concurrency,
            )
            print(f"webhooks/s, {webs} web process(es): {rates[('webhooks', webs)]:.0f}", flush=True)
        for workers in (1, 2):
            rates[("generations", workers)] = generations_per_minute(
                tmp,
                database_url,
                env,
                user,
                hooked.image,
                hooked.video,
                workers=workers,
                count=args.generations,
            )
            print(f"generations/min, {workers} worker(s): {rates[('generations', workers)]:.1f}", flush=True)

        client = Client()
        client.force_login(user)
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        topology = _topology(tmp, database_url, env, webs=2, workers=2)
        try:
            urls = [topology.services[n].url for n in ("web-a", "web-b")]
            latency = asyncio.run(_latency(urls, cookie, fresh, args.sockets))
        finally:
            topology.stop_all()

    print()
    print(f"{'':34}{'1 process':>12}{'2 processes':>14}{'ratio':>8}")
    for key, label, unit in (
        ("webhooks", "webhooks answered", "/s"),
        ("generations", "generations finished", "/min"),
    ):
        one, two = rates[(key, 1)], rates[(key, 2)]
        print(f"{label + ' ' + unit:34}{one:12.1f}{two:14.1f}{two / one:8.2f}")
    print(
        f"event latency via Redis, {args.sockets} sockets over 2 web processes, {len(latency)} samples: "
        f"p50 {percentile(latency, 0.5):.1f} ms  p99 {percentile(latency, 0.99):.1f} ms"
    )


if __name__ == "__main__":
    main()
