"""Template filters for amounts, rates and statuses in the active language."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.translation import get_language

from targets.formatting import (
    DASH,
    STATUS_LABELS,
    bar_width,
    format_money,
    format_pct,
    format_points,
    status_label,
)

register = template.Library()


def _number(value):
    """A missing value reaches a filter as "" (the template engine's `string_if_invalid`):
    read it as no value, never as a number to convert."""
    return None if value == "" else value


@register.filter
def money(amount: Decimal | None) -> str:
    return format_money(_number(amount), get_language())


@register.filter
def pct(value: Decimal | None) -> str:
    return format_pct(_number(value))


@register.filter
def points(value: Decimal | None) -> str:
    return format_points(_number(value))


@register.filter
def bar(value: Decimal | None) -> str:
    return bar_width(_number(value))


@register.simple_tag
def status_badge(status: str | None) -> str:
    if status not in STATUS_LABELS:
        return format_html('<span class="badge badge-none">{}</span>', DASH)
    return format_html(
        '<span class="badge badge-{}" data-status="{}">{}</span>',
        status,
        status,
        status_label(status),
    )


@register.filter
def sortkey(value: Decimal | None) -> str:
    """A rate as a plain number for sorting a table in the browser; no rate sorts lowest."""
    value = _number(value)
    return "-1" if value is None else f"{Decimal(value):f}"


STATUS_RANK = {"red": "0", "yellow": "1", "green": "2"}


@register.filter
def status_rank(status: str | None) -> str:
    """Red before yellow before green when sorted ascending; no status first."""
    return STATUS_RANK.get(status or "", "-1")
