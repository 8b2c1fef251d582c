"""ETA from the team's own finished runs: p50/p90 of wall time per second of driving video."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from animate.models import Generation
from animate.services import eta


def _finished(team, user, image, video, *, seconds, parameters=None, status="done", **fields):
    created = timezone.now() - timedelta(hours=1)
    generation = Generation.objects.create(
        team=team,
        created_by=user,
        image=image,
        video=video,
        status=status,
        parameters=parameters if parameters is not None else {"resolution": "480p"},
        **fields,
    )
    Generation.objects.filter(pk=generation.pk).update(
        created_at=created, completed_at=created + timedelta(seconds=seconds)
    )
    return generation


def test_with_too_few_runs_the_default_rate_of_the_tier_applies(team, member, image_asset, video_asset):
    for seconds in (10, 20, 30, 40):
        _finished(team, member, image_asset, video_asset, seconds=seconds)
    rates = eta.team_rates(team_id=team.pk)
    assert rates[("480p", "animate")].runs == 4
    value = eta.eta(rates, parameters={"resolution": "480p"}, duration=3.0)
    p50, p90 = eta.DEFAULT_RATES["480p"]
    assert value == {
        "p50_seconds": round(p50 * 3),
        "p90_seconds": round(p90 * 3),
        "basis": "default",
        "runs": 4,
    }


def test_five_finished_runs_give_the_teams_own_p50_and_p90_per_second_of_video(
    team, member, image_asset, video_asset
):
    # The driving video lasts 1 s: 10..100 s of wall time are 10..100 s per second of video.
    assert video_asset.duration == pytest.approx(1.0)
    for seconds in (10, 20, 30, 40, 50, 60, 70, 80, 90, 100):
        _finished(team, member, image_asset, video_asset, seconds=seconds)
    rates = eta.team_rates(team_id=team.pk)
    value = eta.eta(rates, parameters={"resolution": "480p"}, duration=2.0)
    assert value == {"p50_seconds": 100, "p90_seconds": 180, "basis": "team", "runs": 10}


def test_runs_count_only_for_their_own_tier_and_mode_and_only_when_done_in_full(
    team, other_team, member, outsider, image_asset, video_asset
):
    for _ in range(5):
        _finished(team, member, image_asset, video_asset, seconds=5)
        _finished(team, member, image_asset, video_asset, seconds=500, parameters={"resolution": "720p"})
        _finished(
            team,
            member,
            image_asset,
            video_asset,
            seconds=900,
            parameters={"resolution": "480p", "mode": "replace"},
        )
        _finished(team, member, image_asset, video_asset, seconds=999, status="failed")
        _finished(
            team,
            member,
            image_asset,
            video_asset,
            seconds=999,
            number_results=2,
            results_failed=1,
            error_code="x",
        )
    rates = eta.team_rates(team_id=team.pk)
    assert rates[("480p", "animate")].p90 == 5 and rates[("480p", "animate")].runs == 5
    assert rates[("720p", "animate")].p50 == 500
    assert rates[("480p", "replace")].p50 == 900
    # Another team's history is not this one's.
    assert eta.team_rates(team_id=other_team.pk) == {}


def test_the_rates_of_every_tier_and_mode_come_from_one_query(team, member, image_asset, video_asset):
    for resolution in ("480p", "580p", "720p"):
        for _ in range(3):
            _finished(
                team, member, image_asset, video_asset, seconds=30, parameters={"resolution": resolution}
            )
    with CaptureQueriesContext(connection) as queries:
        rates = eta.team_rates(team_id=team.pk)
    assert len(queries) == 1 and len(rates) == 3


def test_a_video_of_unknown_length_has_no_eta(team, member, image_asset, video_asset):
    assert eta.eta({}, parameters={}, duration=None) is None
    assert eta.eta_for_task(team_id=team.pk, task={"resolution": "480p"}, duration=0) is None


def test_a_run_in_flight_carries_its_eta_in_its_event_and_an_ended_one_none(
    team, member, image_asset, video_asset
):
    from animate.services.generations import generation_event

    running = Generation.objects.create(
        team=team,
        created_by=member,
        image=image_asset,
        video=video_asset,
        status="processing",
        parameters={"resolution": "720p"},
    )
    event = generation_event(running, rates={})
    assert event["eta"] == {"p50_seconds": 45, "p90_seconds": 90, "basis": "default", "runs": 0}
    ended = _finished(team, member, image_asset, video_asset, seconds=10)
    assert generation_event(ended, rates={})["eta"] is None
