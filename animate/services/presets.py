"""Team presets: save a set of settings under a name, list them with what they cost and how their
results were judged, rename, change or delete them. Everything is scoped to the caller's team."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.db.models.functions import Lower

from animate.models import CostEntry, Membership, Output, Preset
from animate.models.presets import PRESET_NAME_MAX
from animate.runware.money import COST_QUANTUM
from animate.services.generations import SERVER_KEYS, generation_quote
from animate.services.review import ReviewState, review_state_expression
from animate.services.teams import membership_require_spender

NAME_LABEL = "Preset name"
# Choices a preset never holds: the inputs are the draft's own, and what the server sets is not a setting.
NOT_SETTINGS = SERVER_KEYS | {"image", "video"}


class PresetRejected(Exception):
    """``problems`` maps a field (``name`` or a ``parameters.<path>``-style key) to a message."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {message}" for key, message in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class PresetStats:
    runs: int  # generations made with the preset that were charged
    average_cost: Decimal | None  # per generation, from the ledger
    reviewed: int  # outputs with a current verdict
    approval_rate: float | None  # approved / reviewed; None before any review


def _clean_name(name: Any) -> str:
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        raise PresetRejected({"name": f"{NAME_LABEL}: give the preset a name."})
    if len(text) > PRESET_NAME_MAX:
        raise PresetRejected({"name": f"{NAME_LABEL}: at most {PRESET_NAME_MAX} characters."})
    return text


def _clean_parameters(parameters: Any) -> dict[str, Any]:
    if not isinstance(parameters, dict):
        raise PresetRejected({"parameters": "Settings: a JSON object of parameter names to values."})
    refused = sorted(key for key in parameters if key in NOT_SETTINGS)
    if refused:
        raise PresetRejected({key: f"{key}: not a setting a preset can hold." for key in refused})
    # The same check a quote makes, so a preset can always be applied and submitted as it is.
    problems = {
        key: message
        for key, message in generation_quote(choices=parameters, video=None).problems.items()
        if key != "video"
    }
    if problems:
        raise PresetRejected(problems)
    return parameters


def _save(preset: Preset) -> Preset:
    try:
        with transaction.atomic():
            preset.save()
    except IntegrityError:
        raise PresetRejected(
            {"name": f"{NAME_LABEL}: the team already has a preset called “{preset.name}”."}
        ) from None
    return preset


def preset_create(*, membership: Membership | None, name: Any, parameters: Any) -> Preset:
    member = membership_require_spender(membership)
    preset = Preset(
        team_id=member.team_id,
        name=_clean_name(name),
        parameters=_clean_parameters(parameters),
        created_by=member.user,
    )
    return _save(preset)


def preset_update(
    *, membership: Membership | None, preset: Preset, name: Any = None, parameters: Any = None
) -> Preset:
    member = membership_require_spender(membership)
    if preset.team_id != member.team_id:
        raise PresetRejected({"preset": "No such preset in your team."})
    if name is not None:
        preset.name = _clean_name(name)
    if parameters is not None:
        preset.parameters = _clean_parameters(parameters)
    return _save(preset)


def preset_delete(*, membership: Membership | None, preset: Preset) -> None:
    member = membership_require_spender(membership)
    if preset.team_id != member.team_id:
        raise PresetRejected({"preset": "No such preset in your team."})
    # Generations keep their history; their link to the preset is cleared (SET_NULL).
    preset.delete()


def presets_for(membership: Membership) -> list[Preset]:
    return list(Preset.objects.filter(team_id=membership.team_id).order_by(Lower("name"), "id"))


def preset_stats(presets: list[Preset]) -> dict[int, PresetStats]:
    """Average cost per charged generation (from the ledger) and approval rate (from the current
    verdicts of their outputs), for many presets in two queries."""
    ids = [preset.pk for preset in presets]
    spend = {
        row["generation__preset"]: row
        for row in CostEntry.objects.filter(generation__preset__in=ids)
        .values("generation__preset")
        .annotate(total=Sum("amount"), runs=Count("generation", distinct=True))
    }
    verdicts: dict[int, dict[str, int]] = {}
    for row in (
        Output.objects.filter(generation__preset__in=ids)
        .annotate(state=review_state_expression())
        .values("generation__preset", "state")
        .annotate(count=Count("id"))
    ):
        verdicts.setdefault(row["generation__preset"], {})[row["state"]] = row["count"]
    stats = {}
    for pk in ids:
        money = spend.get(pk)
        runs = money["runs"] if money else 0
        average = (
            (money["total"] / runs).quantize(COST_QUANTUM, rounding=ROUND_HALF_UP) if money and runs else None
        )
        states = verdicts.get(pk, {})
        reviewed = sum(count for state, count in states.items() if state != ReviewState.UNREVIEWED)
        approved = states.get(ReviewState.APPROVED, 0)
        stats[pk] = PresetStats(
            runs=runs,
            average_cost=average,
            reviewed=reviewed,
            approval_rate=round(approved / reviewed, 4) if reviewed else None,
        )
    return stats
