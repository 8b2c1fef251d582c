"""Webhook -> browser event latency over real websockets, with many sockets open.

For each sample, a "processing" webhook is POSTed for a fresh submitted generation and the time until
every open socket has received the resulting status event is recorded. Targets (DESIGN.md): p99 < 50 ms
embedded (in-memory layer), < 100 ms with Redis at 100 open sockets.
Run: .venv/bin/python -m bench.event_latency [--sockets 100] [--samples 100] [--redis]
"""

import argparse
import asyncio
import json
import time

import httpx
import websockets

from bench._harness import percentile, scratch_dir, server, setup_django
from bench.fixtures import make_team_and_generations


async def measure(url: str, cookie: str, generations, sockets: int) -> list[float]:
    ws_url = url.replace("http", "ws", 1) + "/ws/generations/"
    connections = [
        await websockets.connect(ws_url, origin=url, additional_headers={"Cookie": cookie}, proxy=None)
        for _ in range(sockets)
    ]
    for connection in connections:
        await connection.recv()  # the snapshot
    latencies: list[float] = []
    acknowledged: list[float] = []
    async with httpx.AsyncClient(timeout=30) as client:
        for generation, secret in generations:
            body = {
                "data": [
                    {
                        "taskType": "videoInference",
                        "taskUUID": str(generation.task_uuid),
                        "status": "processing",
                    }
                ]
            }

            async def wait_for(connection, pk=generation.pk):
                while True:
                    message = json.loads(await connection.recv())
                    if message.get("id") == pk and message.get("status") == "processing":
                        return time.perf_counter()

            started = time.perf_counter()
            waiters = [asyncio.create_task(wait_for(c)) for c in connections]
            response = await client.post(f"{url}/hooks/runware/{generation.pk}/{secret}/", json=body)
            response.raise_for_status()
            acknowledged.append((time.perf_counter() - started) * 1000)
            arrivals = await asyncio.wait_for(asyncio.gather(*waiters), 10)
            latencies.append((max(arrivals) - started) * 1000)
    for connection in connections:
        await connection.close()
    print(
        f"webhook answered (2xx) after: p50 {percentile(acknowledged, 0.5):.1f} ms  "
        f"p99 {percentile(acknowledged, 0.99):.1f} ms"
    )
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=100)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--redis", action="store_true", help="use the Redis channel layer (REDIS_URL)")
    args = parser.parse_args()
    with scratch_dir() as tmp:
        extra = {"REDIS_URL": "redis://127.0.0.1:6379/6"} if args.redis else {}
        env = setup_django(tmp, extra)
        user, generations = make_team_and_generations(tmp, args.samples)
        from django.test import Client

        client = Client()
        client.force_login(user)
        from django.conf import settings

        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        with server(env) as url:
            latencies = asyncio.run(measure(url, cookie, generations, args.sockets))
    layer = "redis" if args.redis else "in-memory"
    target = 100 if args.redis else 50
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    print(
        f"webhook -> last of {args.sockets} sockets ({layer} layer, {len(latencies)} samples): "
        f"p50 {p50:.1f} ms  p99 {p99:.1f} ms  max {max(latencies):.1f} ms  (target p99 < {target} ms) "
        f"{'OK' if p99 < target else 'ABOVE TARGET'}"
    )


if __name__ == "__main__":
    main()
