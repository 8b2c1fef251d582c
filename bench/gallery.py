"""Gallery at scale: 10 000 outputs of one team, then p50/p95 of the gallery page and the outputs API,
first page and a filtered page, measured side by side against the same running server, with the number
of queries each page costs (the tests assert it does not grow with the number of outputs).

    .venv/bin/python -m bench.gallery [--outputs 10000] [--requests 40]
"""

import argparse
import time
import uuid
from decimal import Decimal

import httpx

from bench._harness import percentile, scratch_dir, server, setup_django
from bench.fixtures import make_team_and_generations

PAGES = {
    "gallery, first page": ("/gallery/", {}),
    "gallery, filtered (rejected, face drift, by cost)": (
        "/gallery/",
        {"verdict": "rejected", "reason": "face_drift", "sort": "cost"},
    ),
    "outputs API, first page": ("/api/outputs/", {}),
    "outputs API, filtered (unreviewed, starred)": (
        "/api/outputs/",
        {"verdict": "unreviewed", "starred": "1"},
    ),
}


def build(tmp, count: int):
    """``count`` outputs over count/2 generations, a third of them reviewed, some starred and on a board."""
    from django.contrib.auth import get_user_model

    from animate.models import Asset, Board, BoardItem, Generation, Membership, Output, Star, Verdict

    user, _ = make_team_and_generations(tmp, 0)
    team = Membership.objects.get(user=user).team
    reviewer = get_user_model().objects.create_user(username="bench-reviewer", password="x")
    Membership.objects.create(user=reviewer, team=team, role=Membership.Role.REVIEWER)
    image, video = (Asset.objects.get(team=team, kind=kind) for kind in ("image", "video"))
    generations = Generation.objects.bulk_create(
        Generation(
            team=team,
            created_by=user,
            image=image,
            video=video,
            status="done",
            number_results=2,
            parameters={"mode": "replace" if index % 4 == 0 else "animate", "resolution": "480p"},
            estimated_cost=Decimal("0.0600"),
        )
        for index in range(count // 2)
    )
    outputs = Output.objects.bulk_create(
        Output(
            team=team,
            generation=generation,
            video_uuid=uuid.uuid4(),
            file=f"teams/{team.pk}/outputs/{generation.pk}/{index}.mp4",
            poster=f"teams/{team.pk}/posters/{index}.jpg",
            sha256="0" * 64,
            size=150_000,
            content_type="video/mp4",
            width=480,
            height=704,
            fps=16,
            frames=48,
            duration=3.0,
            codec="h264",
            container="mp4",
            seed=index,
            cost=Decimal("0.0300") + Decimal(index % 7) / 100,
        )
        for generation in generations
        for index in range(2)
    )
    reasons = (["face_drift"], ["mask_bleed", "artefacts"], [])
    Verdict.objects.bulk_create(
        Verdict(
            team=team,
            output=output,
            reviewer=reviewer,
            decision="rejected" if reasons[index % 3] else "approved",
            reasons=reasons[index % 3],
            rating=1 + index % 5,
        )
        for index, output in enumerate(outputs)
        if index % 3 == 0
    )
    Star.objects.bulk_create(Star(user=user, output=output) for output in outputs[::7])
    board = Board.objects.create(team=team, name="Picks", created_by=user)
    BoardItem.objects.bulk_create(BoardItem(board=board, output=output) for output in outputs[::11])
    return user


def query_counts(user) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    counts = {}
    for name, (path, params) in PAGES.items():
        client.get(path, params)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path, params).status_code == 200
        counts[name] = len(captured)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outputs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    with scratch_dir() as tmp:
        env = setup_django(tmp, {"ALLOWED_HOSTS": "127.0.0.1,testserver"})
        started = time.perf_counter()
        user = build(tmp, args.outputs)
        print(f"built {args.outputs} outputs in {time.perf_counter() - started:.1f} s")
        counts = query_counts(user)
        from django.conf import settings
        from django.test import Client

        login = Client()
        login.force_login(user)
        cookies = {settings.SESSION_COOKIE_NAME: login.cookies[settings.SESSION_COOKIE_NAME].value}
        with server(env) as url, httpx.Client(base_url=url, cookies=cookies, timeout=30) as http:
            timings: dict[str, list[float]] = {name: [] for name in PAGES}
            for path, params in PAGES.values():
                http.get(path, params=params).raise_for_status()  # warm
            # Interleaved, so every page sees the same machine noise.
            for _ in range(args.requests):
                for name, (path, params) in PAGES.items():
                    start = time.perf_counter()
                    http.get(path, params=params).raise_for_status()
                    timings[name].append((time.perf_counter() - start) * 1000)
    print(f"{'page':<52} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for name, values in timings.items():
        print(
            f"{name:<52} {percentile(values, 0.5):>8.1f} {percentile(values, 0.95):>8.1f} {counts[name]:>8}"
        )


if __name__ == "__main__":
    main()
