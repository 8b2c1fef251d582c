"""How long a run takes, from the team's own history: p50/p90 of wall time per second of driving video.

Runware publishes no timings, and its queue and the model's speed change with the tier (480p/580p/720p)
and the mode (animate/replace). So each team's finished runs are the measure: seconds from submit to done
divided by the driving video's length, by tier and mode. Until a tier and mode has ``MIN_RUNS`` finished
runs, a default rate applies (``basis: "default"``).

One query reads the team's recent finished runs (``HISTORY`` of them, every tier and mode at once); the
rates it gives are cached per team for ``CACHE_SECONDS`` where an event is built on every status change.
"""

import math
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from animate.models import Generation
from animate.runware import pricing, spec

MIN_RUNS = 5
HISTORY = 200
CACHE_SECONDS = 60
# Seconds of wall time per second of driving video (p50, p90) before a team has its own figures: a
# cautious reading of what a diffusion video model of this size takes per tier (higher tiers, more pixels).
DEFAULT_RATES: dict[str, tuple[float, float]] = {
    "480p": (20.0, 40.0),
    "580p": (30.0, 60.0),
    "720p": (45.0, 90.0),
}
FALLBACK_RATE = (45.0, 90.0)


@dataclass(frozen=True)
class Rate:
    p50: float  # seconds of wall time per second of driving video
    p90: float
    runs: int  # finished runs of the team behind the figures (0 for the default)

    @property
    def basis(self) -> str:
        return "team" if self.runs >= MIN_RUNS else "default"


Rates = dict[tuple[str, str], Rate]


def _mode(parameters: dict[str, Any]) -> str:
    return str(parameters.get("mode") or spec.parameter("advancedFeatures.wanAnimate.mode").default)


def _tier(parameters: dict[str, Any]) -> str:
    try:
        return pricing.tier_for_task(parameters)
    except ValueError:
        return ""


def _percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def team_rates(*, team_id: int) -> Rates:
    """Per (tier, mode): the rates measured on the team's last ``HISTORY`` runs that ended done with every
    result (one query)."""
    rows = (
        Generation.objects.filter(
            team_id=team_id,
            status=Generation.Status.DONE,
            results_failed=0,
            completed_at__isnull=False,
            video__duration__gt=0,
        )
        .order_by("-created_at")
        .values_list("parameters", "created_at", "completed_at", "video__duration")[:HISTORY]
    )
    samples: dict[tuple[str, str], list[float]] = {}
    for parameters, created_at, completed_at, duration in rows:
        seconds = (completed_at - created_at).total_seconds()
        if seconds < 0:
            continue
        key = (_tier(parameters or {}), _mode(parameters or {}))
        samples.setdefault(key, []).append(seconds / duration)
    return {
        key: Rate(p50=_percentile(values, 0.5), p90=_percentile(values, 0.9), runs=len(values))
        for key, values in samples.items()
    }


def team_rates_cached(*, team_id: int) -> Rates:
    key = f"animate:eta:{team_id}"
    rates = cache.get(key)
    if rates is None:
        rates = team_rates(team_id=team_id)
        cache.set(key, rates, CACHE_SECONDS)
    return rates


def rate_for(rates: Rates, *, tier: str, mode: str) -> Rate:
    measured = rates.get((tier, mode))
    if measured is not None and measured.runs >= MIN_RUNS:
        return measured
    p50, p90 = DEFAULT_RATES.get(tier, FALLBACK_RATE)
    return Rate(p50=p50, p90=p90, runs=measured.runs if measured else 0)


def eta(rates: Rates, *, parameters: dict[str, Any], duration: float | None) -> dict[str, Any] | None:
    """``{"p50_seconds", "p90_seconds", "basis", "runs"}`` for a run of these parameters on a driving
    video this long; None when its length is unknown."""
    if not duration or duration <= 0:
        return None
    rate = rate_for(rates, tier=_tier(parameters), mode=_mode(parameters))
    return {
        "p50_seconds": max(1, round(rate.p50 * duration)),
        "p90_seconds": max(1, round(rate.p90 * duration)),
        "basis": rate.basis,
        "runs": rate.runs,
    }


def eta_for_task(*, team_id: int, task: dict[str, Any], duration: float | None) -> dict[str, Any] | None:
    """The ETA of a quote: ``task`` as built from the choices (nested or flat)."""
    if not duration or duration <= 0:
        return None
    return eta(team_rates(team_id=team_id), parameters=spec.flatten_task(task), duration=duration)


def eta_for_generation(generation: Generation, *, rates: Rates | None = None) -> dict[str, Any] | None:
    """The ETA of a run (its video must be loaded or loadable); ``rates`` when a page built them once."""
    duration = generation.video.duration if generation.video_id else None
    if not duration:
        return None
    if rates is None:
        rates = team_rates_cached(team_id=generation.team_id)
    return eta(rates, parameters=generation.parameters or {}, duration=duration)
