"""pricing.py: tiers, billable seconds, result counts, rounding and reading provider costs."""

import math
from decimal import Decimal
from typing import Any

import pytest

from animate.models import Asset
from animate.runware import money, pricing, spec
from animate.runware.client import RunwareClient
from animate.services.generations import generation_quote
from tests.runware.sandbox_kit import DRIVING_SECONDS, SampleMedia, finished, video_task

# The documented mapping: a size is priced by its table label, rounded up to a listed tier.
TIER_BY_SIZE = [
    (480, 480, "480p"),
    (480, 704, "480p"),
    (704, 480, "480p"),
    (480, 832, "480p"),
    (832, 480, "480p"),
    (480, 1280, "720p"),
    (1280, 480, "720p"),
    (704, 704, "720p"),
    (704, 832, "720p"),
    (832, 704, "720p"),
    (704, 1280, "720p"),
    (1280, 704, "720p"),
    (832, 832, "720p"),
    (832, 1280, "720p"),
    (1280, 832, "720p"),
    (1280, 1280, "720p"),
]


def test_prices_per_second_are_the_pages() -> None:
    prices = pricing.PRICE_PER_SECOND
    assert prices == {
        "480p": Decimal("0.010"),
        "580p": Decimal("0.014"),
        "720p": Decimal("0.0212"),
    }


def test_every_table_size_has_a_price_tier() -> None:
    assert [(w, h) for w, h, _ in TIER_BY_SIZE] == [(w, h) for w, h, _ in spec.DIMENSIONS]


@pytest.mark.parametrize("resolution", ["480p", "580p", "720p"])
def test_a_resolution_is_its_own_tier(resolution: str) -> None:
    assert pricing.tier_for_task({"resolution": resolution}) == resolution


@pytest.mark.parametrize(("width", "height", "tier"), TIER_BY_SIZE)
def test_a_table_size_is_priced_by_its_label_rounded_up_to_a_listed_tier(
    width: int, height: int, tier: str
) -> None:
    assert pricing.tier_for_size(width, height) == tier
    assert pricing.tier_for_task({"width": width, "height": height}) == tier


@pytest.mark.parametrize(("width", "height"), [(720, 1280), (1920, 1080), (0, 0)])
def test_a_size_outside_the_table_cannot_be_priced(width: int, height: int) -> None:
    with pytest.raises(ValueError, match=f"{width}x{height} is not a supported size"):
        pricing.tier_for_size(width, height)


@pytest.mark.parametrize(
    "task",
    [{}, {"resolution": "1080p"}, {"resolution": None}, {"width": 480}, {"width": "480", "height": "480"}],
)
def test_without_a_usable_size_the_most_expensive_tier_is_assumed(task: dict[str, Any]) -> None:
    assert pricing.FALLBACK_TIER == "720p"
    assert pricing.tier_for_task(task) == "720p"


@pytest.mark.parametrize(
    ("seconds", "billable"),
    [
        (0.01, 1),
        (0.5, 1),
        (1, 1),
        (1.0, 1),
        (1.01, 2),
        (2.5, 3),
        (3, 3),
        (Decimal("4.0011"), 5),
        (0.1 + 0.2, 1),
        (59.999, 60),
    ],
)
def test_billable_seconds_round_up_to_whole_seconds(seconds: float | Decimal, billable: int) -> None:
    assert pricing.billable_seconds(seconds) == billable


@pytest.mark.parametrize("seconds", [0, 0.0, -1, Decimal("-0.5")])
def test_a_driving_video_of_no_length_cannot_be_billed(seconds: float | Decimal) -> None:
    with pytest.raises(ValueError, match="seconds above 0"):
        pricing.billable_seconds(seconds)


@pytest.mark.parametrize(
    ("task", "seconds", "cost"),
    [
        ({"resolution": "480p"}, 1, Decimal("0.0100")),
        ({"resolution": "580p"}, 1, Decimal("0.0140")),
        ({"resolution": "720p"}, 1, Decimal("0.0212")),
        ({"resolution": "480p"}, 2.5, Decimal("0.0300")),
        ({"resolution": "720p"}, 10, Decimal("0.2120")),
        ({"width": 480, "height": 832}, 4, Decimal("0.0400")),
        ({"width": 1280, "height": 1280}, 3, Decimal("0.0636")),
        ({}, 1, Decimal("0.0212")),
    ],
)
def test_cost_per_result_is_tier_price_times_billable_seconds(
    task: dict, seconds: float, cost: Decimal
) -> None:
    assert pricing.cost_per_result(task, seconds) == cost


@pytest.mark.parametrize("results", [1, 2, 3, 4])
def test_the_estimate_multiplies_by_number_results(results: int) -> None:
    task = {"resolution": "720p", "numberResults": results}
    assert pricing.estimate(task, 7) == Decimal("0.1484") * results


@pytest.mark.parametrize("results", [None, 0, -2, True, "3", 2.0])
def test_an_unusable_number_results_counts_as_one(results: Any) -> None:
    assert pricing.estimate({"resolution": "580p", "numberResults": results}, 2) == Decimal("0.0280")


def test_an_estimate_is_rounded_to_four_decimal_places() -> None:
    estimate = pricing.estimate({"resolution": "480p", "numberResults": 3}, 1)
    assert estimate == Decimal("0.0300")
    assert estimate.as_tuple().exponent == -4


def test_an_estimate_without_number_results_is_for_one_result() -> None:
    assert pricing.estimate({"resolution": "480p"}, 9.2) == Decimal("0.1000")


@pytest.mark.parametrize(
    ("cost", "expected"),
    [
        (0.18, Decimal("0.1800")),
        (0.1 + 0.2, Decimal("0.3000")),
        (2, Decimal("2.0000")),
        (0, Decimal("0.0000")),
        (Decimal("0.0212"), Decimal("0.0212")),
        ("0.18", Decimal("0.1800")),
        (0.00005, Decimal("0.0001")),
        (0.00025, Decimal("0.0003")),
        (0.00004999, Decimal("0.0000")),
    ],
)
def test_to_decimal_reads_a_cost_exactly_rounded_half_up_to_four_places(cost: Any, expected: Decimal) -> None:
    value = money.to_decimal(cost)
    assert value == expected
    assert value is not None and value.as_tuple().exponent == -4


@pytest.mark.parametrize(
    "cost", [None, True, False, -0.01, -1, math.nan, math.inf, -math.inf, "abc", [0.18], {}]
)
def test_to_decimal_is_none_for_an_absent_or_unusable_cost(cost: Any) -> None:
    assert money.to_decimal(cost) is None


def test_float_noise_in_a_duration_never_bills_an_extra_second() -> None:
    assert pricing.billable_seconds(0.1 * 30) == 3
    assert pricing.billable_seconds(3.0000000000000004) == 3


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), "soon"])
def test_a_duration_that_is_not_a_finite_number_is_refused_as_a_value_error(seconds: object) -> None:
    with pytest.raises(ValueError):
        pricing.billable_seconds(seconds)  # type: ignore[arg-type]


def test_an_absurdly_large_cost_is_not_money() -> None:
    assert money.to_decimal(1e30) is None


# --- the quote against what the sandbox charges ----------------------------------------------------------

SANDBOX_CASES = [pytest.param({"width": w, "height": h}, id=f"{w}x{h}") for w, h, _ in spec.DIMENSIONS] + [
    pytest.param({"resolution": value, "width": None, "height": None}, id=f"preset-{value}")
    for value in spec.parameter("resolution").choices
]


@pytest.mark.usefixtures("sandbox_settings")
@pytest.mark.parametrize("size", SANDBOX_CASES)
def test_the_quote_equals_the_sandbox_charge_for_every_table_size_and_preset(
    client: RunwareClient, media: SampleMedia, size: dict[str, Any]
) -> None:
    task = video_task(client, media, includeCost=True, numberResults=2, seed=3, **size)
    client.submit(task)
    items = finished(client, task["taskUUID"]).data
    charged = sum(Decimal(str(item["cost"])) for item in items)

    choices = {key: value for key, value in size.items() if value is not None} | {"numberResults": 2}
    quote = generation_quote(choices=choices, video=Asset(duration=DRIVING_SECONDS))

    assert quote.exact is True and not quote.problems
    assert charged == quote.estimate == quote.estimate_min
    rendered = (items[0]["sandbox"]["width"], items[0]["sandbox"]["height"])
    if "width" in choices:
        assert rendered == (size["width"], size["height"])


@pytest.mark.usefixtures("sandbox_settings")
def test_a_size_left_to_runware_is_charged_by_the_row_rendered_within_the_quoted_range(
    client: RunwareClient, media: SampleMedia
) -> None:
    task = video_task(client, media, includeCost=True, width=None, height=None)
    client.submit(task)
    (item,) = finished(client, task["taskUUID"]).data
    quote = generation_quote(choices={}, video=Asset(duration=DRIVING_SECONDS))

    # The square character makes the square 360p row, charged at 480p (not the 720p it once was).
    assert (item["sandbox"]["width"], item["sandbox"]["height"]) == (480, 480)
    assert Decimal(str(item["cost"])) == Decimal("0.0100")
    assert quote.exact is False
    assert quote.estimate_min <= Decimal(str(item["cost"])) <= quote.estimate


@pytest.mark.parametrize(("width", "height", "tier"), TIER_BY_SIZE)
def test_a_rendered_size_is_charged_by_its_table_label_unless_a_preset_was_asked(
    width: int, height: int, tier: str
) -> None:
    assert pricing.tier_for_render({}, width, height) == tier
    for preset in pricing.PRICE_PER_SECOND:
        assert pricing.tier_for_render({"resolution": preset}, width, height) == preset


@pytest.mark.parametrize(
    ("source", "suggested", "ratio"),
    [
        ((1920, 1080), (832, 480), "16:9"),
        ((1080, 1920), (480, 832), "9:16"),
        ((500, 500), (480, 480), "1:1"),
        ((640, 480), (704, 480), "4:3"),
        ((3000, 1000), (1280, 480), "3:1"),
    ],
)
def test_the_suggested_size_is_the_cheapest_row_of_the_nearest_labelled_ratio(
    source: tuple[int, int], suggested: tuple[int, int], ratio: str
) -> None:
    assert pricing.suggested_size(*source) == suggested
    assert pricing.ratio_name(*source) == ratio


def test_a_range_spans_the_cheapest_and_dearest_tier_a_row_can_have() -> None:
    assert pricing.RENDER_TIERS == ("480p", "720p")
    assert pricing.price_range({"numberResults": 2}, 3) == (Decimal("0.0600"), Decimal("0.1272"))
    assert pricing.price_range({"resolution": "580p"}, 3) == (Decimal("0.0420"), Decimal("0.0420"))
