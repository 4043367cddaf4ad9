"""Charts are pure functions of selector output: built here without HTTP or a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from targets.charts import (
    STATUS_COLOURS,
    Thresholds,
    chart_html,
    children_completion_chart,
    trend_chart,
)
from targets.figures import Figures, TrendPoint
from targets.selectors.summary import DashboardSummary, SummaryRow

D = Decimal


@pytest.fixture(autouse=True)
def _english():
    # Chinese is the default; a test that means Chinese says so.
    with translation.override("en"):
        yield


def figures(completion: str | None, status: str | None, pace: str | None = None) -> Figures:
    return Figures(
        actual=D(0),
        completion=D(completion) if completion is not None else None,
        pace=D(pace) if pace is not None else None,
        stretch_progress=None,
        status=status,
        allocation_coverage=None,
        incentive=None,
        expected_base=None,
        allocated_base=None,
    )


def summary(*children: SummaryRow, as_of: date = date(2025, 5, 15)) -> DashboardSummary:
    return DashboardSummary(
        unit=1,
        user=None,
        name="ACME",
        period="2025Q2",
        as_of=as_of,
        target=None,
        figures=None,
        children=list(children),
        volatility=[],
        volatility_period=None,
    )


def test_the_children_chart_has_one_bar_per_child_with_a_target_coloured_by_its_rate():
    fig = children_completion_chart(
        summary(
            SummaryRow(unit=2, user=None, name="East", target=10, figures=figures("41.25", "red")),
            SummaryRow(unit=3, user=None, name="North", target=None, figures=None),
            SummaryRow(unit=None, user=7, name="Alice", target=11, figures=figures("95", "green")),
            SummaryRow(unit=None, user=8, name="Bob", target=12, figures=figures(None, None)),
        )
    )
    (bar,) = fig.data
    assert bar.orientation == "h"  # names stay readable on a phone
    assert list(bar.y) == ["East", "Alice", "Bob"]
    assert list(bar.x) == [41.25, 95.0, 0.0]
    assert list(bar.marker.color) == [
        STATUS_COLOURS["red"],
        STATUS_COLOURS["green"],
        STATUS_COLOURS[None],
    ]
    assert list(bar.text) == ["41.3% · Behind", "95.0% · On track", "—"]


def test_the_children_chart_is_left_out_when_no_child_has_a_target():
    empty = summary(SummaryRow(unit=2, user=None, name="East", target=None, figures=None))
    assert children_completion_chart(empty) is None
    assert chart_html(None) == ""


def test_chart_labels_follow_the_active_language():
    row = SummaryRow(unit=2, user=None, name="East", target=10, figures=figures("50", "red"))
    with translation.override("zh-hans"):
        fig = children_completion_chart(summary(row))
    assert fig.layout.xaxis.title.text == "完成率（%）"
    assert list(fig.data[0].customdata) == [["红色预警", ""]]
    assert list(fig.data[0].text) == ["50.0% · 红色预警"]


def test_while_open_pace_and_completion_stand_side_by_side_each_coloured_by_its_own_rate():
    # The case a user met: 53.9 % done, 85 % of what was due by now. Status (from pace) is
    # green; the completion bar must not be green for it.
    row = SummaryRow(
        unit=None, user=7, name="Alice", target=11, figures=figures("53.9", "green", pace="85")
    )
    fig = children_completion_chart(summary(row))
    pace, completion, *legend_keys = fig.data
    assert (pace.name, completion.name) == ("Pace", "Completion")
    assert list(pace.x) == [85.0] and list(pace.marker.color) == [STATUS_COLOURS["green"]]
    assert list(completion.x) == [53.9]
    assert list(completion.marker.color) == [STATUS_COLOURS["red"]]
    assert list(completion.text) == ["53.9% · Behind"]
    assert list(pace.text) == ["85.0% · On track"]
    assert fig.layout.barmode == "group" and fig.layout.showlegend
    # The legend keys are grey: colours are statuses, hatching tells pace from completion.
    assert not pace.showlegend and not completion.showlegend
    assert [(key.name, key.marker.color) for key in legend_keys] == [
        ("Pace", "#94a3b8"),
        ("Completion", "#94a3b8"),
    ]


def test_once_closed_completion_alone_is_shown_coloured_by_completion():
    row = SummaryRow(
        unit=None, user=7, name="Alice", target=11, figures=figures("70", "yellow", pace="70")
    )
    fig = children_completion_chart(summary(row, as_of=date(2025, 7, 2)))
    (completion,) = fig.data
    assert list(completion.marker.color) == [STATUS_COLOURS["yellow"]]
    assert list(completion.text) == ["70.0% · Watch"]


def test_a_companys_own_thresholds_colour_the_bars():
    row = SummaryRow(unit=2, user=None, name="East", target=10, figures=figures("70", "red"))
    strict = children_completion_chart(
        summary(row), thresholds=Thresholds(red_below=D(75), green_above=D(90))
    )
    assert list(strict.data[0].marker.color) == [STATUS_COLOURS["red"]]


def test_a_click_on_a_bar_follows_the_childs_link():
    rows = [
        SummaryRow(unit=2, user=None, name="East", target=10, figures=figures("50", "red")),
        SummaryRow(unit=None, user=7, name="Alice", target=11, figures=figures("90", "green")),
    ]
    fig = children_completion_chart(
        summary(*rows), link_for=lambda row: f"/to/{row.unit or row.user}"
    )
    assert [data[1] for data in fig.data[0].customdata] == ["/to/2", "/to/7"]
    html = chart_html(fig, clickable=True)
    assert "plotly_click" in html and "window.location.href" in html
    assert "plotly_click" not in chart_html(fig)


POINTS = [
    TrendPoint("2025-W14", D("100000"), D("50000"), D("75000")),
    TrendPoint("2025-W15", D("150000"), D("120000"), D("180000")),
]


def test_the_trend_chart_draws_actual_against_base_and_stretch_in_wan_for_chinese():
    with translation.override("zh-hans"):
        fig = trend_chart(POINTS, language="zh-hans")
    by_name = {trace.name: trace for trace in fig.data}
    actual = by_name["实际业绩（累计）"]
    assert list(actual.x) == ["2025-W14", "2025-W15"]
    assert list(actual.y) == [10.0, 15.0]
    assert list(actual.text) == ["10万", "15万"]
    assert list(by_name["基础目标应达"].y) == [5.0, 12.0]
    assert list(by_name["冲刺目标应达"].y) == [7.5, 18.0]
    assert fig.layout.yaxis.title.text == "金额（万元）"


def test_the_trend_chart_keeps_yuan_in_english():
    with translation.override("en"):
        fig = trend_chart(POINTS, language="en")
    actual = next(t for t in fig.data if t.name == "Actual (cumulative)")
    assert list(actual.y) == [100000.0, 150000.0]
    assert list(actual.text) == ["100,000", "150,000"]
    assert fig.layout.yaxis.title.text == "Amount (CNY)"


def test_a_chart_renders_as_a_fragment_that_expects_plotly_from_our_static_files():
    html = chart_html(trend_chart(POINTS, language="en"))
    assert html.startswith("<div")
    assert "<html" not in html
    assert "Plotly.newPlot" in html
    assert "cdn" not in html.lower()
    assert trend_chart([], language="en") is None
