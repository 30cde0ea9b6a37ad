"""The statements chart (rewards.charts): round axis steps in the community's currency, the
funds and the weekly budgets each on their own scale, and points inside the plot box."""

from __future__ import annotations

import datetime

import pytest

from rewards import charts
from rewards.selectors import ChartPoint

WEEK = datetime.timedelta(days=7)
MONDAY = datetime.date(2026, 11, 2)


def point(k: int, reward: int, operations: int, budget: int, ops_budget: int) -> ChartPoint:
    return ChartPoint(
        week=MONDAY + k * WEEK,
        reward_fund=reward,
        operations_fund=operations,
        reward_budget=budget,
        operations_budget=ops_budget,
    )


@pytest.mark.parametrize(
    ("span", "currency", "step"),
    [
        (0, "CNY", 100),  # at least one yuan
        (1, "CNY", 100),
        (400, "CNY", 100),
        (401, "CNY", 200),
        (800, "CNY", 200),
        (801, "CNY", 500),
        (2001, "CNY", 1000),
        (1_000_000, "CNY", 500_000),
        (1_000_001, "CNY", 500_000),
        (2_000_001, "CNY", 1_000_000),
        (7, "JPY", 2),  # yen have no minor unit
        (19, "JPY", 5),
    ],
)
def test_the_axis_steps_are_round_amounts(span: int, currency: str, step: int) -> None:
    assert charts.nice_step(span, currency) == step
    assert step * charts.INTERVALS >= span


@pytest.mark.parametrize(
    ("amount", "currency", "label"),
    [
        (0, "CNY", "¥0"),
        (150_000, "CNY", "¥1,500"),
        (150_050, "CNY", "¥1,500.50"),
        (-20_000, "CNY", "-¥200"),
        (500, "USD", "$5"),
        (1500, "JPY", "¥1,500"),
        (250_000, "EUR", "€2,500"),
    ],
)
def test_axis_labels_are_in_the_community_s_currency(
    amount: int, currency: str, label: str
) -> None:
    assert charts.axis_amount(amount, currency) == label


def test_the_weekly_budgets_get_their_own_scale_instead_of_lying_flat_under_the_funds() -> None:
    # given: funds of about 10,000 yuan and weekly budgets of about 200
    points = [
        point(0, 0, 0, 0, 0),
        point(1, 1_040_000, 3_000, 20_000, 2_300),
        point(2, 1_020_000, 3_100, 20_000, 0),
    ]

    # when
    chart = charts.statements_chart(
        points,
        funds=("Funds", {"reward_fund": "Reward fund", "operations_fund": "Operations fund"}),
        budgets=(
            "Budgets",
            {"reward_budget": "Weekly reward budget", "operations_budget": "Weekly ops"},
        ),
        currency="CNY",
    )

    # then: two panels, each with its own round scale in yuan
    funds, budgets = chart.panels
    assert [t.label for t in funds.ticks] == ["¥0", "¥5,000", "¥10,000", "¥15,000"]
    assert [t.label for t in budgets.ticks] == ["¥0", "¥50", "¥100", "¥150", "¥200"]
    assert (funds.title, budgets.title) == ("Funds", "Budgets")
    # the legend runs over both panels, in order, with its own colour for each series
    assert [(s.key, s.number) for s in chart.series] == [
        ("reward_fund", 1),
        ("operations_fund", 2),
        ("reward_budget", 3),
        ("operations_budget", 4),
    ]
    # the 200-yuan budget reaches the top of its panel, not a fiftieth of the funds' height
    reward_budget = budgets.series[0].points.split()
    assert reward_budget[1] == f"{(funds.left + funds.right) / 2},{float(charts.TOP)}"
    # the bottom tick is the axis, at zero
    assert budgets.ticks[0].y == float(charts.HEIGHT - charts.BOTTOM)
    assert (chart.first_week, chart.last_week) == ("2026-11-02", "2026-11-16")


def test_every_point_and_tick_lies_inside_the_plot_box() -> None:
    points = [point(k, 7 * k * k, -300 if k == 3 else 5, 13 * k, 0) for k in range(10)]

    chart = charts.line_chart(points, {"reward_fund": "R", "operations_fund": "O"}, "CNY")

    for series in chart.series:
        for xy in series.points.split():
            x, y = (float(v) for v in xy.split(","))
            assert chart.left <= x <= chart.right
            assert chart.top <= y <= chart.bottom
    assert chart.ticks[0].label == "-¥5"  # a fund below zero lowers the axis to a round step
    assert chart.ticks[-1].y == float(charts.TOP)
    assert [t.y for t in chart.ticks] == sorted((t.y for t in chart.ticks), reverse=True)


def test_a_chart_without_money_draws_a_flat_line_at_zero() -> None:
    points = [point(k, 0, 0, 0, 0) for k in range(3)]

    chart = charts.line_chart(points, {"reward_fund": "R"}, "CNY")

    assert [t.label for t in chart.ticks] == ["¥0", "¥1"]
    assert {xy.split(",")[1] for xy in chart.series[0].points.split()} == {
        str(float(charts.HEIGHT - charts.BOTTOM))
    }


def test_a_chart_of_no_weeks_is_empty() -> None:
    chart = charts.line_chart([], {"reward_fund": "R"}, "CNY")

    assert chart.series[0].points == ""
    assert (chart.first_week, chart.last_week) == ("", "")
