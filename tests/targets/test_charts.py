"""Charts are pure functions of selector output: built here without HTTP or a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.utils import translation

from targets.charts import STATUS_COLOURS, chart_html, children_completion_chart, trend_chart
from targets.figures import Figures, TrendPoint
from targets.selectors.summary import DashboardSummary, SummaryRow

D = Decimal


def figures(completion: str | None, status: str | None) -> Figures:
    return Figures(
        actual=D(0),
        completion=D(completion) if completion is not None else None,
        pace=None,
        stretch_progress=None,
        status=status,
        allocation_coverage=None,
        incentive=None,
        expected_base=None,
        allocated_base=None,
    )


def summary(*children: SummaryRow) -> DashboardSummary:
    return DashboardSummary(
        unit=1,
        user=None,
        name="ACME",
        period="2025Q2",
        as_of=date(2025, 5, 15),
        target=None,
        figures=None,
        children=list(children),
        volatility=[],
        volatility_period=None,
    )


def test_the_children_chart_has_one_bar_per_child_with_a_target_coloured_by_status():
    fig = children_completion_chart(
        summary(
            SummaryRow(unit=2, user=None, name="East", target=10, figures=figures("41.25", "red")),
            SummaryRow(unit=3, user=None, name="North", target=None, figures=None),
            SummaryRow(unit=None, user=7, name="Alice", target=11, figures=figures("95", "green")),
            SummaryRow(unit=None, user=8, name="Bob", target=12, figures=figures(None, None)),
        )
    )
    (bar,) = fig.data
    assert list(bar.x) == ["East", "Alice", "Bob"]
    assert list(bar.y) == [41.25, 95.0, 0.0]
    assert list(bar.marker.color) == [
        STATUS_COLOURS["red"],
        STATUS_COLOURS["green"],
        STATUS_COLOURS[None],
    ]
    assert list(bar.text) == ["41.3%", "95.0%", "—"]


def test_the_children_chart_is_left_out_when_no_child_has_a_target():
    empty = summary(SummaryRow(unit=2, user=None, name="East", target=None, figures=None))
    assert children_completion_chart(empty) is None
    assert chart_html(None) == ""


def test_chart_labels_follow_the_active_language():
    row = SummaryRow(unit=2, user=None, name="East", target=10, figures=figures("50", "red"))
    with translation.override("zh-hans"):
        fig = children_completion_chart(summary(row))
    assert fig.layout.yaxis.title.text == "完成率（%）"
    assert list(fig.data[0].customdata) == ["落后"]


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
