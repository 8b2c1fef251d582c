"""Duplicate storms: 200 replays of one authentic webhook, and what they do to another generation's work.

1. 200 replays of one success webhook (inline video) of a running generation, 16 at a time: the time
   until all are answered and the body is applied; then the same 200 again once the generation is done.
2. Fairness: while a storm of 200 distinct bodies for generation A is applied, how long a "processing"
   webhook of generation B takes to be applied, against the same on a quiet server.
Target: a duplicate costs about an indexed lookup (200 drain in a few seconds) and B's latency stays
close to the quiet figure.
Run: .venv/bin/python -m bench.duplicate_storm [--replays 200] [--postgres]
"""

import argparse
import asyncio
import base64
import contextlib
import json
import time
import uuid

import httpx

from bench._harness import percentile, postgres_database, scratch_dir, server, setup_django
from bench.fixtures import make_team_and_generations


async def post_all(url: str, bodies: list[bytes], concurrency: int = 16) -> float:
    queue = list(bodies)
    async with httpx.AsyncClient(timeout=60) as client:

        async def worker() -> None:
            while queue:
                body = queue.pop()
                response = await client.post(url, content=body, headers={"Content-Type": "application/json"})
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def wait_until(predicate, timeout: float = 120.0) -> float:
    started = time.perf_counter()
    while not predicate():
        if time.perf_counter() - started > timeout:
            raise RuntimeError("timed out")
        time.sleep(0.005)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replays", type=int, default=200)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    database = postgres_database() if args.postgres else contextlib.nullcontext(None)
    with scratch_dir() as tmp, database as database_url:
        env = setup_django(tmp, {"DATABASE_URL": database_url} if database_url else {})
        from animate.models import Generation, WebhookEvent
        from animate.samples import make_driving_video

        _, generations = make_team_and_generations(tmp, 3)
        (storm, storm_secret), (other, other_secret), (busy, busy_secret) = generations
        video = base64.b64encode(
            make_driving_video(tmp / "r.mp4", seconds=0.5, fps=8, width=64, height=96).read_bytes()
        )
        success = {
            "taskType": "videoInference",
            "taskUUID": str(storm.task_uuid),
            "status": "success",
            "videoUUID": str(uuid.uuid4()),
            "videoBase64Data": video.decode(),
            "cost": 0.01,
        }
        replay = json.dumps({"data": [success]}).encode()

        def hook(generation, secret) -> str:
            return f"{url}/hooks/runware/{generation.pk}/{secret}/"

        def processing(generation, n: int = 0) -> bytes:
            item = {
                "taskType": "videoInference",
                "taskUUID": str(generation.task_uuid),
                "status": "processing",
            }
            return json.dumps({"data": [{**item, "progress": n}]}).encode()

        def applied(generation) -> bool:
            return not WebhookEvent.objects.filter(
                generation=generation, status__in=["received", "processing"]
            ).exists()

        with server(env) as url:
            time.sleep(2)  # the start-up work (one poll per generation) is done
            answered = asyncio.run(post_all(hook(storm, storm_secret), [replay] * args.replays))
            drained = wait_until(lambda: Generation.objects.get(pk=storm.pk).status == "done")
            event = WebhookEvent.objects.get(generation=storm)
            print(
                f"{args.replays} replays of one webhook, running generation: answered in {answered:.2f} s, "
                f"applied (done) {drained:.2f} s later; stored once, {event.duplicates} counted as replays"
            )
            answered = asyncio.run(post_all(hook(storm, storm_secret), [replay] * args.replays))
            print(
                f"{args.replays} replays of the same webhook, finished generation: "
                f"answered in {answered:.2f} s"
            )

            def other_latency(samples: int, during_storm: bool) -> list[float]:
                latencies = []
                for n in range(samples):
                    if during_storm:
                        bodies = [processing(busy, 1000 * n + k) for k in range(args.replays)]
                        asyncio.run(post_all(hook(busy, busy_secret), bodies))
                    started = time.perf_counter()
                    httpx.post(
                        hook(other, other_secret),
                        content=processing(other, n),
                        headers={"Content-Type": "application/json"},
                    ).raise_for_status()
                    wait_until(lambda: applied(other))
                    latencies.append((time.perf_counter() - started) * 1000)
                return latencies

            quiet = other_latency(5, during_storm=False)
            stormy = other_latency(5, during_storm=True)
            print(
                f"another generation's webhook applied after: quiet p50 {percentile(quiet, 0.5):.0f} ms; "
                f"behind a storm of {args.replays} distinct bodies p50 {percentile(stormy, 0.5):.0f} ms, "
                f"max {max(stormy):.0f} ms ({percentile(stormy, 0.5) / percentile(quiet, 0.5):.1f}x)"
            )


if __name__ == "__main__":
    main()
