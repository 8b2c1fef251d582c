"""Cost dashboard queries over 1 000 000 ledger rows on PostgreSQL: p50/p95 per figure and breakdown.

Target (DESIGN.md): every dashboard query < 500 ms. The rows are loaded with INSERT ... SELECT into a
freshly created, uniquely named database (dropped at the end): one team of 20 members holds 90 % of the
rows over the last year, another team the rest, so every query also has to skip what is not its own.
Run: .venv/bin/python -m bench.costs [--rows 1000000] [--repeat 15] [--pg-url postgres://postgres@127.0.0.1:5432]
"""

import argparse
import os
import secrets
import statistics
import time
from collections.abc import Callable
from typing import Any

import psycopg

from bench._harness import percentile, scratch_dir, setup_django

TARGET_MS = 500.0


def load(rows: int) -> tuple[Any, Any]:
    """The two teams, their members, generations and ``rows`` ledger entries (two per generation)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from animate.models import Budget, CostDay, CostEntry, Generation, Membership, Team
    from animate.services.ledger import cost_days_rebuild
    from bench.fixtures import make_team_and_generations

    with scratch_dir() as tmp:
        user, made = make_team_and_generations(tmp, 1)
    team = Team.objects.get(slug="bench")
    other = Team.objects.create(name="Other", slug="other")
    users = [user]
    for index in range(19):
        member = get_user_model().objects.create_user(username=f"member{index}", password="x")
        Membership.objects.create(user=member, team=team, role="member")
        users.append(member)
    outsider = get_user_model().objects.create_user(username="outsider", password="x")
    Membership.objects.create(user=outsider, team=other, role="admin")
    Budget.objects.create(team=team, monthly_limit=100000)
    template = made[0][0]
    generations = rows // 2
    user_ids = "ARRAY[" + ",".join(str(u.pk) for u in users) + "]"
    columns = [field.column for field in Generation._meta.concrete_fields if field.column != "id"]
    overrides = {
        # 90 % in the team measured, the rest in another team.
        "team_id": f"CASE WHEN mod(n, 10) = 0 THEN {other.pk} ELSE {team.pk} END",
        "created_by_id": f"CASE WHEN mod(n, 10) = 0 THEN {outsider.pk} ELSE ({user_ids})[1 + mod(n, 20)] END",
        "task_uuid": "gen_random_uuid()",
        # As in production, most runs end done: 4 % fail and 0.1 % are still receiving results.
        "status": "CASE WHEN mod(n, 25) = 0 THEN 'failed' WHEN mod(n, 1000) = 1 THEN 'receiving' "
        "ELSE 'done' END",
        "number_results": "2",
        "estimated_cost": "0.0600",
        "actual_cost": "0.0600",
        "reserved_cost": "CASE WHEN mod(n, 5000) = 0 THEN 0.0600 ELSE 0 END",
        "created_at": "now() - mod(n, 365) * interval '1 day' - mod(n, 86400) * interval '1 second'",
        "updated_at": "now()",
    }
    select = ", ".join(overrides.get(column, f"t.{column}") for column in columns)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO animate_generation ({', '.join(columns)}) "
            f"SELECT {select} FROM animate_generation t, generate_series(1, %s) n WHERE t.id = %s",
            [generations, template.pk],
        )
        cursor.execute(
            """
            INSERT INTO animate_costentry (team_id, generation_id, video_uuid, user_id, key, kind,
                amount, estimated, mode, tier, output_format, billable_seconds, flagged, flag_reason, note,
                created_at)
            SELECT g.team_id, g.id, gen_random_uuid(), g.created_by_id, g.task_uuid::text || ':' || r,
                CASE WHEN mod(g.id, 33) = 0 THEN 'failed_charged'
                     WHEN mod(g.id, 97) = 0 THEN 'adjustment' ELSE 'result' END,
                (ARRAY[0.0300, 0.0420, 0.0636, 0.0280])[1 + mod(g.id + r, 4)],
                (ARRAY[0.0300, 0.0420, 0.0636, 0.0300])[1 + mod(g.id + r, 4)],
                (ARRAY['animate', 'animate', 'replace'])[1 + mod(g.id, 3)],
                (ARRAY['480p', '580p', '720p', '480p'])[1 + mod(g.id + r, 4)],
                (ARRAY['MP4', 'MP4', 'WEBM', 'MOV'])[1 + mod(g.id, 4)],
                3, mod(g.id, 1000) = 0, '', '', g.created_at + interval '2 minutes'
            FROM animate_generation g, generate_series(1, 2) r
            WHERE g.id <> %s
            """,
            [template.pk],
        )
    # The rows went in by SQL, not through CostEntry.save: the daily sums the reports read are rebuilt.
    for each in (team, other):
        cost_days_rebuild(team=each)
    print(
        f"loaded {CostEntry.objects.count():,} ledger rows ({CostDay.objects.count():,} daily sums) and "
        f"{Generation.objects.count():,} generations "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return team, users


def measure(name: str, run: Callable[[], Any], repeat: int) -> tuple[str, float, float]:
    run()  # warm the caches once, as a dashboard that is in use has them warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return name, statistics.median(times), percentile(times, 0.95)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--pg-url", default=os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--keep", action="store_true", help="Keep the database (to read query plans).")
    parser.add_argument("--reuse", help="Measure again a database kept by an earlier --keep run.")
    args = parser.parse_args()
    base = args.pg_url.rsplit("/", 1)[0] if args.pg_url.count("/") > 2 else args.pg_url
    name = args.reuse or f"animate_bench_costs_{os.getpid()}_{secrets.token_hex(3)}"
    admin = base.replace("postgres://", "postgresql://") + "/postgres"
    if not args.reuse:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    try:
        with scratch_dir() as var_dir:
            setup_django(var_dir, {"DATABASE_URL": f"{base}/{name}"})
            if args.reuse:
                team, users = loaded()
            else:
                team, users = load(args.rows)
                with psycopg.connect(
                    f"{base.replace('postgres://', 'postgresql://')}/{name}", autocommit=True
                ) as db:
                    db.execute("VACUUM ANALYZE")
            report(team, users, repeat=args.repeat)
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep or args.reuse:
            print(f"kept database {name}")
        else:
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def loaded() -> tuple[Any, list[Any]]:
    from animate.models import Membership, Team

    team = Team.objects.get(slug="bench")
    return team, [m.user for m in Membership.objects.filter(team=team).select_related("user").order_by("pk")]


def report(team: Any, users: list[Any], *, repeat: int) -> None:
    from animate.services import budgets, costs

    ranges = {
        "this month": costs.cost_filters_parse(team, {"range": "month"}),
        "last 30 days": costs.cost_filters_parse(team, {"range": "30d"}),
        "last 90 days": costs.cost_filters_parse(team, {"range": "custom", "from": _day(-89), "to": _day(0)}),
        "last 365 days": costs.cost_filters_parse(
            team, {"range": "custom", "from": _day(-364), "to": _day(0)}
        ),
        "90 days, one member": costs.cost_filters_parse(
            team, {"range": "custom", "from": _day(-89), "to": _day(0), "user": str(users[3].pk)}
        ),
    }
    results = []
    for label, filters in ranges.items():
        rows = costs.ledger_entries(filters).count()
        print(f"\n{label}: {rows:,} ledger rows selected (of the team's)")
        checks = [
            ("summary", lambda f=filters: costs.cost_summary(f)),
            ("charged, no result", lambda f=filters: costs.charged_no_result(f)),
            *[
                (f"by {by}", lambda f=filters, by=by: costs.cost_breakdown(f, by=by))
                for by in costs.BREAKDOWNS
            ],
            (
                "latest 25 entries",
                lambda f=filters: list(costs.ledger_rows(f).order_by("-created_at", "-pk")[:25]),
            ),
            ("CSV batch of 2000", lambda f=filters: costs.ledger_csv_batch(f, after=None)),
        ]
        for name, run in checks:
            results.append((label, *measure(name, run, repeat)))
            print(f"  {name:<22} p50 {results[-1][2]:7.1f} ms   p95 {results[-1][3]:7.1f} ms")
    print("\nevery page load")
    for name, run in (
        ("today & this month", lambda: costs.spend_to_date(team)),
        ("held by runs in flight", lambda: costs.in_flight(team)),
        ("budget overview", lambda: budgets.team_budget_overview(team=team)),
        ("budget check at submit", lambda: budgets.budget_statuses(team=team, user_id=users[1].pk)),
    ):
        results.append(("-", *measure(name, run, repeat)))
        print(f"  {name:<22} p50 {results[-1][2]:7.1f} ms   p95 {results[-1][3]:7.1f} ms")
    slow = [row for row in results if row[3] >= TARGET_MS]
    print(
        f"\n{len(results) - len(slow)} of {len(results)} queries under {TARGET_MS:.0f} ms at p95 "
        "(target: all)"
    )
    for label, name, _p50, p95 in slow:
        print(f"  over target: {label} / {name}: p95 {p95:.0f} ms")


def _day(offset: int) -> str:
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.now() + timedelta(days=offset)).date().isoformat()


if __name__ == "__main__":
    main()
