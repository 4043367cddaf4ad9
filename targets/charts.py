"""Plotly figures for the pages: pure functions from selector output to a figure.

They read the active language only through the `language` argument and gettext, so a test
can build them without HTTP. `chart_html` turns a figure into the fragment a template
embeds; plotly.js itself is served from our static files (no CDN).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from targets.figures import Status, TrendPoint, status_for
from targets.formatting import WAN, format_money, format_pct, is_chinese, status_label
from targets.periods import Quarter
from targets.selectors.summary import DashboardSummary, SummaryRow

STATUS_COLOURS = {
    Status.RED: "#dc2626",
    Status.YELLOW: "#d97706",
    Status.GREEN: "#16a34a",
    None: "#9ca3af",
}
FONT = (
    '-apple-system, BlinkMacSystemFont, "Segoe UI", "PingFang SC", "Hiragino Sans GB", '
    '"Microsoft YaHei", "Noto Sans CJK SC", "Noto Sans SC", Roboto, sans-serif'
)
BASE_COLOUR, STRETCH_COLOUR, ACTUAL_COLOUR = "#64748b", "#7c3aed", "#2563eb"


def _layout(fig: go.Figure, *, height: int) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 56, "r": 16, "t": 16, "b": 48},
        font={"family": FONT, "size": 13, "color": "#1f2937"},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        hoverlabel={"font": {"family": FONT}},
    )
    fig.update_xaxes(showgrid=False, linecolor="#d1d5db")
    fig.update_yaxes(gridcolor="#eef0f3", zerolinecolor="#d1d5db")
    return fig


@dataclass(frozen=True)
class Thresholds:
    """A company's status thresholds (SPEC §5), applied to whichever rate a bar shows."""

    red_below: Decimal = Decimal(60)
    green_above: Decimal = Decimal(80)


def _rate_bars(
    rows: Sequence[SummaryRow],
    rates: Sequence[Decimal | None],
    *,
    name: str,
    thresholds: Thresholds,
    links: Sequence[str],
    hatched: bool = False,
) -> go.Bar:
    """Bars of one rate, each coloured by the status that rate itself gives and labelled with
    it in words, so colour is never the only sign (and a 53.9 % bar is not green)."""
    statuses = [
        status_for(rate, red_below=thresholds.red_below, green_above=thresholds.green_above)
        for rate in rates
    ]
    labels = [status_label(status) for status in statuses]
    return go.Bar(
        name=name,
        orientation="h",
        y=[row.name for row in rows],
        x=[float(rate) if rate is not None else 0.0 for rate in rates],
        marker={
            "color": [STATUS_COLOURS.get(status) for status in statuses],
            "line": {"color": "#ffffff", "width": 1},
            # Pace is hatched, completion solid: the legend tells them apart by pattern, as
            # the colours belong to the statuses.
            "pattern": {
                "shape": "/" if hatched else "",
                "fgcolor": "#ffffff",
                "size": 6,
                "solidity": 0.25,
            },
        },
        text=[
            format_pct(rate) if rate is None else f"{format_pct(rate)} · {label}"
            for rate, label in zip(rates, labels, strict=True)
        ],
        textposition="outside",
        textfont={"size": 12},
        cliponaxis=False,
        # [status label, where a click leads]
        customdata=[[label, link] for label, link in zip(labels, links, strict=True)],
        hovertemplate="%{y}<br>" + name + " %{x:.1f}% · %{customdata[0]}<extra></extra>",
    )


def children_completion_chart(
    summary: DashboardSummary,
    *,
    thresholds: Thresholds | None = None,
    link_for: Callable[[SummaryRow], str] | None = None,
) -> go.Figure | None:
    """One group per child with a target: its pace and its completion side by side while the
    quarter is open (status follows pace then), completion alone once it has closed.

    `link_for` gives where a click on a child's bar leads (its dashboard or target page).
    """
    rows = [row for row in summary.children if row.figures is not None]
    if not rows:
        return None
    thresholds = thresholds or Thresholds()
    links = [link_for(row) if link_for else "" for row in rows]
    completion = _rate_bars(
        rows,
        [row.figures.completion for row in rows],
        name=_("Completion"),
        thresholds=thresholds,
        links=links,
    )
    paces = [row.figures.pace for row in rows]
    quarter = Quarter.parse(summary.period)
    side_by_side = quarter.is_open(summary.as_of) and any(p is not None for p in paces)
    traces = [completion]
    if side_by_side:
        pace = _rate_bars(
            rows, paces, name=_("Pace"), thresholds=thresholds, links=links, hatched=True
        )
        traces = [pace, completion]
    fig = go.Figure(traces)
    if side_by_side:
        # Legend keys in a neutral grey: the bars' colours are statuses, not series.
        for trace in list(fig.data):
            trace.update(showlegend=False, legendgroup=trace.name)
            fig.add_trace(
                go.Bar(
                    name=trace.name,
                    legendgroup=trace.name,
                    orientation="h",
                    x=[None],
                    y=[None],
                    marker={"color": "#94a3b8", "pattern": trace.marker.pattern},
                    hoverinfo="skip",
                    # On axes of their own, so they take no place in the bar groups.
                    xaxis="x2",
                    yaxis="y2",
                )
            )
        fig.update_layout(
            xaxis2={"overlaying": "x", "visible": False},
            yaxis2={"overlaying": "y", "visible": False},
        )
    # Horizontal bars: names stay readable on a phone and with many reps; the rate and its
    # status in words sit at the end of each bar.
    fig.add_vline(
        x=100,
        line_dash="dot",
        line_color=BASE_COLOUR,
        annotation_text=_("Base"),
        annotation_position="top",
    )
    highest = max(
        [float(rate) for trace in traces for rate in trace.x if rate is not None] + [100.0]
    )
    fig.update_xaxes(
        title_text=_("Pace and completion (%)") if side_by_side else _("Completion (%)"),
        # Room on the right for the "66.3% · 黄色关注" labels.
        range=[0, highest * 1.55],
        gridcolor="#eef0f3",
        zerolinecolor="#d1d5db",
    )
    fig.update_yaxes(autorange="reversed", automargin=True, showgrid=False, ticksuffix=" ")
    fig.update_layout(
        barmode="group",
        bargap=0.25,
        showlegend=side_by_side,
        # The legend at the figure's top edge, the Base label below it above the plot.
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 1,
            "yanchor": "top",
            "x": 0,
            "traceorder": "normal",
        },
        uniformtext={"minsize": 10, "mode": "show"},
    )
    per_row = 60 if side_by_side else 34
    fig = _layout(fig, height=max(220, 110 + per_row * len(rows)))
    fig.update_layout(margin={"l": 8, "r": 16, "t": 64 if side_by_side else 28, "b": 48})
    return fig


def trend_chart(points: Sequence[TrendPoint], *, language: str | None) -> go.Figure | None:
    """Cumulative actual against the phased Base and Stretch (one point per week or month)."""
    if not points:
        return None
    chinese = is_chinese(language)
    scale = WAN if chinese else Decimal(1)
    labels = [p.period_label for p in points]

    def line(values: list[Decimal], name: str, colour: str, dash: str | None) -> go.Scatter:
        return go.Scatter(
            x=labels,
            y=[float(v / scale) for v in values],
            name=name,
            mode="lines+markers",
            line={"color": colour, "width": 3 if dash is None else 2, "dash": dash},
            marker={"size": 6 if dash is None else 4},
            text=[format_money(v, language) for v in values],
            hovertemplate="%{x}<br>%{text}<extra>" + name + "</extra>",
        )

    fig = go.Figure(
        [
            line(
                [p.stretch_expected for p in points], _("Stretch expected"), STRETCH_COLOUR, "dot"
            ),
            line([p.base_expected for p in points], _("Base expected"), BASE_COLOUR, "dash"),
            line(
                [p.actual_cumulative for p in points], _("Actual (cumulative)"), ACTUAL_COLOUR, None
            ),
        ]
    )
    fig.update_yaxes(
        title_text=_("Amount (10,000 CNY)") if chinese else _("Amount (CNY)"),
        rangemode="tozero",
    )
    # Listed actual first, though drawn last so that it stays on top of the expectations.
    fig.update_layout(legend={"orientation": "h", "y": 1.12, "x": 0, "traceorder": "reversed"})
    return _layout(fig, height=360)


# A click on a bar whose customdata carries a link follows it (drill-down).
FOLLOW_LINKS = """
var plot = document.getElementById('{plot_id}');
plot.on('plotly_click', function (event) {
  var data = event.points[0].customdata;
  if (data && data[1]) { window.location.href = data[1]; }
});
"""


def chart_html(fig: go.Figure | None, *, clickable: bool = False) -> str:
    """The `<div>` + inline script for a page; empty when there is nothing to draw."""
    if fig is None:
        return ""
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        config={"displayModeBar": False, "responsive": True},
        post_script=FOLLOW_LINKS if clickable else None,
    )


def metric_chart(page, *, language: str | None) -> go.Figure | None:
    """A metric's weekly values against plan (a rep's, or a unit's by its aggregation); weeks
    past a threshold are marked in the colour of their level, and named in the hover text."""
    if not any(p.value is not None for p in page.points):
        return None
    labels = [p.week for p in page.points]
    level_words = {"alert": _("past the alert threshold"), "warn": _("past the warning threshold")}
    colours = {"alert": STATUS_COLOURS[Status.RED], "warn": STATUS_COLOURS[Status.YELLOW]}
    fig = go.Figure(
        [
            go.Scatter(
                x=labels,
                y=[float(p.plan) for p in page.points],
                name=_("Plan"),
                mode="lines",
                line={"color": BASE_COLOUR, "width": 2, "dash": "dash"},
            ),
            go.Bar(
                x=labels,
                y=[None if p.value is None else float(p.value) for p in page.points],
                name=_("Value"),
                marker={"color": [colours.get(p.level, ACTUAL_COLOUR) for p in page.points]},
                text=[level_words.get(p.level, "") for p in page.points],
                hovertemplate="%{x}<br>%{y}<br>%{text}<extra></extra>",
            ),
        ]
    )
    fig.update_yaxes(title_text=page.metric.get_unit_display(), rangemode="tozero")
    fig.update_layout(legend={"orientation": "h", "y": 1.12, "x": 0}, bargap=0.3)
    return _layout(fig, height=320)
