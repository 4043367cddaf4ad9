from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from targets.formatting import bar_width, format_money, format_pct, format_points, status_label

D = Decimal


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (D("8000000"), "800万"),
        (D("12000000.00"), "1,200万"),
        (D("12345678"), "1,234.57万"),
        (D("12345000"), "1,234.5万"),
        (D("10000"), "1万"),
        (D("15000"), "1.5万"),
        (D("9999"), "9,999"),
        (D("9999.5"), "9,999.50"),
        (D("9999.999"), "1万"),
        (D("0"), "0"),
        (D("-2500000"), "-250万"),
        (D("-0.001"), "0"),
        (123456789, "12,345.68万"),
    ],
)
def test_chinese_shows_large_amounts_in_wan(amount, expected):
    assert format_money(amount, "zh-hans") == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (D("8000000"), "8,000,000"),
        (D("8000000.00"), "8,000,000"),
        (D("12345678.5"), "12,345,678.50"),
        (D("0.004"), "0"),
        (D("999.999"), "1,000"),
        (D("-1500"), "-1,500"),
    ],
)
def test_english_shows_whole_amounts_without_decimals_and_others_with_two(amount, expected):
    assert format_money(amount, "en") == expected


def test_a_missing_amount_reads_as_a_dash_in_every_language():
    assert format_money(None, "zh-hans") == "—"
    assert format_money(None, "en") == "—"


def test_rates_show_one_decimal_rounded_half_up():
    assert format_pct(D("83.25")) == "83.3%"
    assert format_pct(D("66.6666666")) == "66.7%"
    assert format_pct(D("100")) == "100.0%"
    assert format_pct(D("1234.5")) == "1,234.5%"
    assert format_pct(None) == "—"


def test_volatility_points_have_one_decimal():
    assert format_points(D("23.44")) == "23.4"
    assert format_points(11.55) == "11.6"
    assert format_points(None) == "—"


def test_bar_widths_stay_between_0_and_100_with_a_dot():
    assert bar_width(D("142.7")) == "100.0"
    assert bar_width(D("-3")) == "0.0"
    assert bar_width(D("55.55")) == "55.6"
    assert bar_width(None) == "0"


def test_status_labels_are_translated():
    with translation.override("zh-hans"):
        assert [status_label(s) for s in ("red", "yellow", "green")] == [
            "红色预警",
            "黄色关注",
            "绿色达标",
        ]
    with translation.override("en"):
        assert [status_label(s) for s in ("red", "yellow", "green")] == [
            "Behind",
            "Watch",
            "On track",
        ]
    assert status_label(None) == "—"


def render(source: str, **context) -> str:
    return Template("{% load money %}" + source).render(Context(context))


def test_the_money_filter_follows_the_active_language():
    with translation.override("zh-hans"):
        assert render("{{ a|money }}", a=D("8000000")) == "800万"
    with translation.override("en"):
        assert render("{{ a|money }}", a=D("8000000")) == "8,000,000"


def test_the_status_badge_carries_the_status_colour_and_label():
    with translation.override("zh-hans"):
        html = render("{% status_badge s %}", s="red")
    assert 'class="badge badge-red"' in html
    assert "红色预警" in html
    assert render("{% status_badge s %}", s=None) == '<span class="badge badge-none">—</span>'


def test_a_huge_rate_still_formats():
    from targets.formatting import format_pct

    assert format_pct(Decimal("1E+30")).endswith("%")
