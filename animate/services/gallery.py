"""The team gallery: every output of a team (and every run that has none yet), filtered and sorted.

A page of cards costs the same number of queries at any page size and any team size: one count, one
query for the page's keys (a ``UNION`` of outputs and output-less runs, sorted and sliced in the
database), then one query for the page's outputs and one for its runs, each with everything a card
shows (submitter, overall verdict, mean rating, my star) annotated or joined in.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from animate.models import BoardItem, CostEntry, Generation, Membership, Output, Star, Verdict
from animate.runware import pricing, spec
from animate.services import review

RUNNING = "running"
STATUS_CHOICES = (
    (Generation.Status.DONE, "Done"),
    (RUNNING, "Running"),
    (Generation.Status.FAILED, "Failed"),
)
MODE_CHOICES = (("animate", "Animate"), ("replace", "Replace"))
TIER_CHOICES = tuple((tier, tier) for tier in pricing.PRICE_PER_SECOND)
FORMAT_CHOICES = tuple((value, value) for value in ("MP4", "WEBM", "MOV"))
# Cost bands of one card (an output's own charge; a run's charge so far), in USD: (min, max) half-open.
COST_BANDS: dict[str, tuple[Decimal | None, Decimal | None, str]] = {
    "none": (None, Decimal("0.0001"), "Not charged"),
    "low": (Decimal("0.0001"), Decimal("0.05"), "Under $0.05"),
    "mid": (Decimal("0.05"), Decimal("0.25"), "$0.05 – $0.25"),
    "high": (Decimal("0.25"), Decimal("1"), "$0.25 – $1.00"),
    "top": (Decimal("1"), None, "$1.00 and more"),
}
SORTS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "rating": "Highest rated",
    "cost": "Most expensive",
}
ARCHIVED_ONLY = "only"
DEFAULT_MODE = str(spec.parameter("advancedFeatures.wanAnimate.mode").default or "animate")
DEFAULT_FORMAT = str(spec.parameter("outputFormat").default or "MP4")


@dataclass(frozen=True)
class GalleryFilters:
    """What the gallery shows; every field maps to one URL parameter of the same name."""

    submitter: int | None = None
    mode: str = ""
    tier: str = ""
    output_format: str = ""
    status: str = ""
    verdict: str = ""
    starred: bool = False
    board: int | None = None
    reason: str = ""
    cost: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    q: str = ""
    sort: str = "newest"
    archived: str = ""

    @property
    def outputs_only(self) -> bool:
        """Filters only an output can match: runs without an output are left out."""
        return bool(
            self.verdict or self.starred or self.board or self.reason or self.status == Generation.Status.DONE
        )


@dataclass
class Card:
    kind: str  # "output" or "run"
    generation: Generation
    output: Output | None = None


@dataclass
class GalleryPage:
    cards: list[Card]
    count: int
    number: int
    num_pages: int
    page_size: int

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1


# --- filters as query conditions -----------------------------------------------------------------


def _parameter_is(prefix: str, key: str, value: str, default: str) -> Q:
    """The stored parameter ``key`` equals ``value``, counting an unset key as its default."""
    chosen = Q(**{f"{prefix}parameters__{key}": value})
    if value == default:
        chosen |= ~Q(**{f"{prefix}parameters__has_key": key})
    return chosen


def tier_condition(tier: str, prefix: str = "") -> Q:
    """Generations priced at ``tier``, decided as ``pricing.tier_for_task`` decides it."""
    condition = Q(**{f"{prefix}parameters__resolution": tier})
    for width, height, _ in spec.DIMENSIONS:
        if pricing.tier_for_size(width, height) == tier:
            condition |= Q(**{f"{prefix}parameters__width": width, f"{prefix}parameters__height": height})
    if tier == pricing.FALLBACK_TIER:
        condition |= ~Q(**{f"{prefix}parameters__has_key": "resolution"}) & ~Q(
            **{f"{prefix}parameters__has_key": "width"}
        )
    return condition


def _generation_conditions(filters: GalleryFilters, prefix: str) -> Q:
    """Conditions on the generation (``prefix`` is "generation__" from an output, "" from a run)."""
    condition = Q()
    if filters.submitter is not None:
        condition &= Q(**{f"{prefix}created_by_id": filters.submitter})
    if filters.mode:
        condition &= _parameter_is(prefix, "mode", filters.mode, DEFAULT_MODE)
    if filters.output_format:
        condition &= _parameter_is(prefix, "outputFormat", filters.output_format, DEFAULT_FORMAT)
    if filters.tier:
        condition &= tier_condition(filters.tier, prefix)
    if filters.status == Generation.Status.DONE:
        condition &= Q(**{f"{prefix}status": Generation.Status.DONE})
    elif filters.status == Generation.Status.FAILED:
        condition &= Q(**{f"{prefix}status": Generation.Status.FAILED})
    elif filters.status == RUNNING:
        condition &= ~Q(**{f"{prefix}status__in": Generation.TERMINAL})
    if filters.q:
        condition &= Q(**{f"{prefix}parameters__positivePrompt__icontains": filters.q}) | Q(
            **{f"{prefix}parameters__negativePrompt__icontains": filters.q}
        )
    return condition


def _cost_condition(band: str, column: str) -> Q:
    low, high, _ = COST_BANDS[band]
    if low is None:
        return Q(**{f"{column}__isnull": True}) | Q(**{f"{column}__lt": high})
    condition = Q(**{f"{column}__gte": low})
    if high is not None:
        condition &= Q(**{f"{column}__lt": high})
    return condition


def _date_conditions(filters: GalleryFilters) -> Q:
    condition = Q()
    if filters.date_from:
        condition &= Q(created_at__date__gte=filters.date_from)
    if filters.date_to:
        condition &= Q(created_at__date__lte=filters.date_to)
    return condition


def gallery_outputs(*, membership: Membership, filters: GalleryFilters) -> QuerySet[Output]:
    """The team's outputs matching ``filters``, annotated for a card and sorted (no runs)."""
    outputs = review.outputs_annotated(
        Output.objects.filter(team_id=membership.team_id), user_id=membership.user_id
    ).select_related("generation__created_by")
    outputs = outputs.filter(archived_at__isnull=filters.archived != ARCHIVED_ONLY)
    outputs = outputs.filter(_generation_conditions(filters, "generation__") & _date_conditions(filters))
    if filters.verdict:
        outputs = outputs.filter(review_state=filters.verdict)
    if filters.starred:
        outputs = outputs.filter(
            Exists(Star.objects.filter(output=OuterRef("pk"), user_id=membership.user_id))
        )
    if filters.board is not None:
        outputs = outputs.filter(
            Exists(
                BoardItem.objects.filter(
                    output=OuterRef("pk"), board_id=filters.board, board__team_id=membership.team_id
                )
            )
        )
    if filters.reason:
        # Reasons are a JSON list of fixed slugs: matching the quoted slug in its text works alike on
        # SQLite and PostgreSQL, and no slug is a quoted part of another.
        outputs = outputs.filter(
            Exists(
                Verdict.objects.filter(
                    output=OuterRef("pk"), is_current=True, reasons__icontains=f'"{filters.reason}"'
                )
            )
        )
    if filters.cost:
        outputs = outputs.filter(_cost_condition(filters.cost, "cost"))
    return _sorted(_sort_keys(outputs, rating=review.rating_or_zero(), cost=F("cost")), filters.sort)


def gallery_runs(*, membership: Membership, filters: GalleryFilters) -> QuerySet[Generation]:
    """Runs that have no output (still running, or failed), matching ``filters``."""
    runs = (
        Generation.objects.filter(team_id=membership.team_id)
        .exclude(status=Generation.Status.DONE)
        .filter(~Exists(Output.objects.filter(generation=OuterRef("pk"))))
        .filter(archived_at__isnull=filters.archived != ARCHIVED_ONLY)
        .filter(_generation_conditions(filters, "") & _date_conditions(filters))
        .select_related("created_by")
    )
    if filters.cost:
        runs = runs.filter(_cost_condition(filters.cost, "actual_cost"))
    # Runs have no rating: they sort below every output when sorting by rating.
    return _sorted(_sort_keys(runs, rating=Value(-1.0), cost=F("actual_cost")), filters.sort)


def _sort_keys(queryset: QuerySet[Any], *, rating: Any, cost: Any) -> QuerySet[Any]:
    return queryset.annotate(
        sort_rating=Coalesce(rating, Value(0.0), output_field=FloatField()),
        sort_cost=Coalesce(
            cost, Value(Decimal(0)), output_field=DecimalField(max_digits=12, decimal_places=4)
        ),
    )


ORDERINGS = {
    "newest": (("created_at", True), ("id", True)),
    "oldest": (("created_at", False), ("id", False)),
    "rating": (("sort_rating", True), ("created_at", True), ("id", True)),
    "cost": (("sort_cost", True), ("created_at", True), ("id", True)),
}


def _order_by(sort: str, *, reverse: bool = False) -> list[str]:
    return [
        f"{'-' if descending != reverse else ''}{name}"
        for name, descending in ORDERINGS.get(sort, ORDERINGS["newest"])
    ]


def _sorted(queryset: QuerySet[Any], sort: str) -> QuerySet[Any]:
    return queryset.order_by(*_order_by(sort))


# --- a page of cards -----------------------------------------------------------------------------


def gallery_page(
    *, membership: Membership, filters: GalleryFilters, page: int = 1, page_size: int = 24
) -> GalleryPage:
    """One page of cards, newest first by default, in a constant number of queries."""
    columns = ("id", "created_at", "sort_rating", "sort_cost", "card_kind")
    keys = gallery_outputs(membership=membership, filters=filters).annotate(card_kind=Value("output"))
    keys = keys.values_list(*columns)
    if not filters.outputs_only:
        runs = gallery_runs(membership=membership, filters=filters).annotate(card_kind=Value("run"))
        keys = (
            keys.order_by()
            .union(runs.order_by().values_list(*columns), all=True)
            .order_by(*_order_by(filters.sort))
        )
    paginator = Paginator(keys, page_size)
    current = paginator.get_page(page)
    rows = list(current.object_list)
    output_ids = [row[0] for row in rows if row[4] == "output"]
    run_ids = [row[0] for row in rows if row[4] == "run"]
    outputs = (
        {
            output.pk: output
            for output in review.outputs_annotated(
                Output.objects.filter(pk__in=output_ids), user_id=membership.user_id
            )
            .select_related("generation__created_by")
            .annotate(run_unstored=_charged_unstored_of_run())
        }
        if output_ids
        else {}
    )
    runs_by_id = (
        {
            run.pk: run
            for run in Generation.objects.filter(pk__in=run_ids)
            .select_related("created_by")
            .annotate(charged_unstored=_charged_without_output())
        }
        if run_ids
        else {}
    )
    cards = []
    for pk, _, _, _, kind in rows:
        if kind == "output":
            output = outputs[pk]
            cards.append(Card(kind="output", generation=output.generation, output=output))
        else:
            cards.append(Card(kind="run", generation=runs_by_id[pk]))
    return GalleryPage(
        cards=cards,
        count=paginator.count,
        number=current.number,
        num_pages=paginator.num_pages,
        page_size=page_size,
    )


def _charged_unstored_of_run() -> Coalesce:
    """How many of the output's run's charges have no stored result (``generations.charged_unstored``,
    counted in the query that loads the page's outputs): a sibling charged but never stored, or an
    error Runware charged for."""
    stored = Output.objects.filter(generation=OuterRef(OuterRef("generation_id"))).values("video_uuid")
    unstored = (
        CostEntry.objects.filter(generation=OuterRef("generation_id"), flagged=False, amount__gt=0)
        .filter(
            Q(kind=CostEntry.Kind.FAILED_CHARGED) | Q(kind=CostEntry.Kind.RESULT) & ~Q(video_uuid__in=stored)
        )
        .order_by()
        .values("generation")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(unstored), Value(0))


def _charged_without_output() -> Exists:
    """A run card's run has no output, so any charge Runware made for it is money without a result
    (what ``generations.charged_unstored`` counts), decided in the query that loads the runs."""
    return Exists(
        CostEntry.objects.filter(
            generation=OuterRef("pk"),
            flagged=False,
            amount__gt=0,
            kind__in=[CostEntry.Kind.RESULT, CostEntry.Kind.FAILED_CHARGED],
        )
    )


def _after(keys: tuple[tuple[str, bool], ...], values: dict[str, Any]) -> Q:
    """Rows strictly after the row with ``values`` in the order ``keys`` (keyset pagination)."""
    after = Q(pk__in=[])
    equal = Q()
    for name, descending in keys:
        after |= equal & Q(**{f"{name}__{'lt' if descending else 'gt'}": values[name]})
        equal &= Q(**{name: values[name]})
    return after


def gallery_neighbours(
    *, membership: Membership, filters: GalleryFilters, output: Output
) -> tuple[int | None, int | None]:
    """The outputs before and after ``output`` in the gallery's order under ``filters`` (J / K)."""
    outputs = gallery_outputs(membership=membership, filters=filters)
    keys = ORDERINGS.get(filters.sort, ORDERINGS["newest"])
    names = [name for name, _ in keys]
    here = outputs.filter(pk=output.pk).values(*names).first()
    if here is None:
        return None, None
    reverse = tuple((name, not descending) for name, descending in keys)
    following = (
        outputs.filter(_after(keys, here)).order_by(*_order_by(filters.sort)).values_list("pk", flat=True)
    )
    preceding = (
        outputs.filter(_after(reverse, here))
        .order_by(*_order_by(filters.sort, reverse=True))
        .values_list("pk", flat=True)
    )
    return preceding.first(), following.first()


def card_facts(parameters: dict[str, Any]) -> dict[str, str]:
    """Mode, price tier and output format of a generation's stored parameters (defaults filled in)."""
    try:
        tier = pricing.tier_for_task(parameters)
    except ValueError:
        tier = pricing.FALLBACK_TIER
    return {
        "mode": str(parameters.get("mode") or DEFAULT_MODE),
        "tier": tier,
        "output_format": str(parameters.get("outputFormat") or DEFAULT_FORMAT),
    }
