"""Webhook -> browser event latency over real websockets, against a no-database baseline in the same run.

For each sample, a "processing" webhook is POSTed for a fresh submitted generation and the time until every
open socket has received the resulting status event is recorded (our path: the webhook view stores the
body, the embedded worker applies it, the status event is published on commit). Alternating with it, the
baseline: the same server pushes a small event straight to the same sockets from an async view, with no
database and no worker (``bench/broadcast``), so the ratio shows what our path adds to the channel layer
and the sockets themselves.

Targets (DESIGN.md): p99 < 50 ms embedded (in-memory layer), < 100 ms with Redis, at 100 open sockets;
1 000 sockets are measured too.
Run: .venv/bin/python -m bench.event_latency [--sockets 100,1000] [--samples 100] [--redis]
"""

import argparse
import asyncio
import json
import os
import time

import httpx
import websockets

from bench._harness import percentile, scratch_dir, server, setup_django
from bench.fixtures import make_team_and_generations


async def _arrivals(connections, predicate) -> float:
    async def wait_for(connection) -> float:
        while True:
            message = json.loads(await connection.recv())
            if predicate(message):
                return time.perf_counter()

    arrivals = await asyncio.wait_for(asyncio.gather(*(wait_for(c) for c in connections)), 30)
    return max(arrivals)


async def measure(url: str, cookie: str, team_id: int, generations, sockets: int) -> dict[str, list[float]]:
    ws_url = url.replace("http", "ws", 1) + "/ws/generations/"
    connections = []
    for _ in range(sockets):
        connection = await websockets.connect(
            ws_url, origin=url, additional_headers={"Cookie": cookie}, proxy=None, max_queue=None
        )
        await connection.recv()  # the snapshot
        connections.append(connection)
    await asyncio.sleep(2)  # the start-up work (one poll per generation) is done before measuring
    results: dict[str, list[float]] = {"ours": [], "baseline": [], "answered": []}
    async with httpx.AsyncClient(timeout=30) as client:
        for number, (generation, secret) in enumerate(generations):
            # Baseline: the same sockets, the same server, an event with no database behind it.
            marker = {"type": "bench", "id": -1 - number}
            waiting = asyncio.create_task(_arrivals(connections, lambda m, marker=marker: m == marker))
            started = time.perf_counter()
            (
                await client.post(f"{url}/bench/broadcast", json={"team": team_id, "event": marker})
            ).raise_for_status()
            results["baseline"].append((await waiting - started) * 1000)

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
            response = await client.post(f"{url}/hooks/runware/{generation.pk}/{secret}/", json=body)
            response.raise_for_status()
            results["answered"].append((time.perf_counter() - started) * 1000)
            results["ours"].append((await waiting - started) * 1000)
    for connection in connections:
        await connection.close()
    return results


def _line(name: str, values: list[float]) -> str:
    return (
        f"{name}: p50 {percentile(values, 0.5):6.1f} ms  p99 {percentile(values, 0.99):6.1f} ms  "
        f"max {max(values):6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", default="100,1000", help="comma list of open socket counts")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--redis", action="store_true", help="use the Redis channel layer")
    args = parser.parse_args()
    counts = [int(count) for count in args.sockets.split(",")]
    with scratch_dir() as tmp:
        extra = {}
        if args.redis:
            extra = {"REDIS_URL": "redis://127.0.0.1:6379/6", "REDIS_PREFIX": f"bench-{os.getpid()}"}
        env = setup_django(tmp, extra)
        user, generations = make_team_and_generations(tmp, args.samples * len(counts))
        from django.conf import settings
        from django.test import Client

        client = Client()
        client.force_login(user)
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        team_id = generations[0][0].team_id
        layer = "Redis" if args.redis else "in-memory"
        target = 100 if args.redis else 50
        with server(env) as url:
            for index, sockets in enumerate(counts):
                batch = generations[index * args.samples : (index + 1) * args.samples]
                results = asyncio.run(measure(url, cookie, team_id, batch, sockets))
                ours, baseline = results["ours"], results["baseline"]
                ratio = percentile(ours, 0.99) / percentile(baseline, 0.99)
                verdict = "OK" if percentile(ours, 0.99) < target else "ABOVE TARGET"
                print(f"--- {sockets} sockets, {layer} layer, {len(ours)} samples each")
                print("  " + _line("webhook answered (2xx)      ", results["answered"]))
                print("  " + _line("baseline: push, no database ", baseline))
                print("  " + _line("webhook -> last socket      ", ours))
                print(
                    f"  webhook -> last of {sockets} sockets: p99 {percentile(ours, 0.99):.1f} ms, "
                    f"{ratio:.2f}x the baseline's p99 (target p99 < {target} ms at 100 sockets) "
                    f"{verdict if sockets == 100 else ''}"
                )


if __name__ == "__main__":
    main()
