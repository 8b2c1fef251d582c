"""Webhook ingest throughput against the same server's trivial endpoint, measured side by side.

The trivial endpoint (``bench/trivial``) is a Django view behind the same middleware doing one
``SELECT 1``. Target: ingest >= 0.8x its requests per second, on SQLite (embedded mode) and PostgreSQL.
Run: .venv/bin/python -m bench.webhook_ingest [--requests 1500] [--concurrency 16] [--postgres]
"""

import argparse
import asyncio
import contextlib
import json
import time
import uuid

import httpx

from bench._harness import postgres_database, scratch_dir, server, setup_django
from bench.fixtures import make_team_and_generations


async def hammer(url: str, *, requests: int, concurrency: int, body_for=None) -> float:
    queue = list(range(requests))
    async with httpx.AsyncClient(timeout=30) as client:

        async def worker():
            while queue:
                index = queue.pop()
                if body_for is None:
                    response = await client.get(url)
                else:
                    response = await client.post(
                        url, content=body_for(index), headers={"Content-Type": "application/json"}
                    )
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return requests / (time.perf_counter() - started)


def wait_drained(timeout: float = 600) -> float:
    """Seconds until the server's worker has applied every stored body. The next round's trivial
    endpoint must not share the server with the previous round's backlog (it would look slower and the
    ratio better than it is); the ingest phase itself runs with the worker applying, as in production."""
    from animate.models import WebhookEvent

    started = time.perf_counter()
    pending = WebhookEvent.objects.filter(
        status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.PROCESSING]
    )
    while pending.exists():
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"{pending.count()} webhook bodies still unapplied after {timeout:.0f} s")
        time.sleep(0.2)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true", help="a throw-away PostgreSQL database")
    args = parser.parse_args()
    database = postgres_database() if args.postgres else contextlib.nullcontext(None)
    with scratch_dir() as tmp, database as database_url:
        env = setup_django(tmp, {"DATABASE_URL": database_url} if database_url else {})
        _, generations = make_team_and_generations(tmp, 1)
        generation, secret = generations[0]
        task_uuid = str(generation.task_uuid)

        def body(index: int) -> bytes:
            item = {
                "taskType": "videoInference",
                "taskUUID": task_uuid,
                "status": "processing",
                "videoUUID": str(uuid.uuid4()),
            }
            return json.dumps({"data": [item]}).encode()

        with server(env) as url:
            hook = f"{url}/hooks/runware/{generation.pk}/{secret}/"
            trivial_url = f"{url}/bench/trivial"
            asyncio.run(hammer(trivial_url, requests=200, concurrency=args.concurrency))  # warm-up
            ratios = []
            for round_number in range(1, args.rounds + 1):
                trivial = asyncio.run(
                    hammer(trivial_url, requests=args.requests, concurrency=args.concurrency)
                )
                ingest = asyncio.run(
                    hammer(hook, requests=args.requests, concurrency=args.concurrency, body_for=body)
                )
                ratios.append(ingest / trivial)
                drained = wait_drained()
                print(
                    f"round {round_number}: trivial {trivial:7.1f} req/s   "
                    f"webhook ingest {ingest:7.1f} req/s   ratio {ingest / trivial:.2f}   "
                    f"(the worker applied the bodies {drained:.1f} s after the last was answered)"
                )
    ratios.sort()
    median = ratios[len(ratios) // 2]
    print(
        f"webhook ingest / trivial endpoint throughput ({'PostgreSQL' if args.postgres else 'SQLite'}): "
        f"median ratio {median:.2f} (target >= 0.80) {'OK' if median >= 0.8 else 'BELOW TARGET'}"
    )


if __name__ == "__main__":
    main()
