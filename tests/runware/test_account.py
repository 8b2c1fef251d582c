"""Reading accountManagement answers tolerantly: balances and usage per day in the shapes seen or likely."""

from datetime import date
from decimal import Decimal

import pytest

from animate.runware import account


@pytest.mark.parametrize(
    ("item", "balance"),
    [
        ({"balance": 2450.75}, Decimal("2450.7500")),  # the documented shape
        ({"balance": "12.5"}, Decimal("12.5000")),
        ({"balance": {"amount": 99.1, "currency": "USD"}}, Decimal("99.1000")),  # the newer schema's object
        ({"balance": {"credits": 3}}, Decimal("3.0000")),
        ({"balance": {"currency": "USD"}}, None),
        ({"balance": None}, None),
        ({"balance": "lots"}, None),
        ({"balance": True}, None),
        ({}, None),
    ],
)
def test_a_balance_is_read_from_a_number_or_an_object(item, balance):
    assert account.parse_balance(item) == balance


def test_usage_totals_are_read_where_readable():
    item = {"usage": {"today": {"credits": 1.5, "requests": 2}, "last7Days": {"credits": "7"}, "odd": "?"}}

    assert account.parse_usage_totals(item) == {"today": Decimal("1.5000"), "last7Days": Decimal("7.0000")}
    assert account.parse_usage_totals({"usage": "n/a"}) == {}


@pytest.mark.parametrize(
    "item",
    [
        {
            "activity": [
                {"date": "2026-12-01", "credits": 0.03, "requests": 1},
                {"date": "2026-12-02", "credits": 0.5},
            ]
        },
        {"usage": [{"day": "2026-12-01T00:00:00Z", "cost": "0.03"}, {"day": "2026-12-02", "cost": 0.5}]},
        {
            "data": {
                "days": [
                    {"period": "2026-12-01", "amount": {"credits": 0.03}},
                    {"period": "2026-12-02", "spend": 0.5},
                ]
            }
        },
        {"daily": {"2026-12-01": 0.03, "2026-12-02": 0.5}},
        [
            {"startDate": "2026-12-01", "total": 0.01},
            {"startDate": "2026-12-01", "total": 0.02},
            {"startDate": "2026-12-02", "usd": 0.5},
        ],
    ],
)
def test_usage_per_day_is_found_in_any_likely_shape_and_days_are_added_up(item):
    days = account.parse_usage_days(item)

    assert [(day.day, day.amount) for day in days] == [
        (date(2026, 12, 1), Decimal("0.0300")),
        (date(2026, 12, 2), Decimal("0.5000")),
    ]


def test_an_empty_list_means_no_usage_but_an_unreadable_one_means_unknown():
    assert account.parse_usage_days({"activity": []}) == []
    assert account.parse_usage_days({"activity": [{"when": "yesterday", "how_much": "some"}]}) is None
    assert account.parse_usage_days({"operation": "getUsageActivity"}) is None
    assert account.parse_usage_days("nonsense") is None


def test_requests_are_summed_when_reported():
    days = account.parse_usage_days(
        {
            "activity": [
                {"date": "2026-12-01", "credits": 1, "requests": 2},
                {"date": "2026-12-01", "credits": 1, "requests": 3},
            ]
        }
    )
    assert days == [account.UsageDay(day=date(2026, 12, 1), amount=Decimal("2.0000"), requests=5)]
