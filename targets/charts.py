"""Plotly figures for the pages: pure functions from selector output to a figure.

They read the active language only through the `language` argument and gettext, so a test
can build them without HTTP. `chart_html` turns a figure into the fragment a template
embeds; plotly.js itself is served from our static files (no CDN).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from targets.figures import Status, TrendPoint
from targets.formatting import WAN, format_money, format_pct, is_chinese, status_label
from targets.selectors.summary import DashboardSummary

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


def children_completion_chart(summary: DashboardSummary) -> go.Figure | None:
    """One bar per child with a target: completion of Base, coloured by status."""
    rows = [row for row in summary.children if row.figures is not None]
    if not rows:
        return None
    completions = [row.figures.completion for row in rows]
    fig = go.Figure(
        go.Bar(
            x=[row.name for row in rows],
            y=[float(c) if c is not None else 0.0 for c in completions],
            marker_color=[STATUS_COLOURS.get(row.figures.status) for row in rows],
            text=[format_pct(c) for c in completions],
            textposition="outside",
            cliponaxis=False,
            customdata=[status_label(row.figures.status) for row in rows],
            hovertemplate="%{x}<br>%{text} · %{customdata}<extra></extra>",
        )
    )
    fig.add_hline(
        y=100,
        line_dash="dot",
        line_color=BASE_COLOUR,
        annotation_text=_("Base"),
        annotation_position="top left",
    )
    fig.update_yaxes(title_text=_("Completion (%)"), rangemode="tozero")
    fig.update_xaxes(tickangle=-30 if len(rows) > 8 else 0)
    return _layout(fig, height=340)


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


def chart_html(fig: go.Figure | None) -> str:
    """The `<div>` + inline script for a page; empty when there is nothing to draw."""
    if fig is None:
        return ""
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        config={"displayModeBar": False, "responsive": True},
    )
