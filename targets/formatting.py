"""How amounts, rates and statuses read on screen, per language (SPEC §9).

Pure functions of their arguments: the template filters in `targets.templatetags.money`
pass the active language in, the tests pass it explicitly.
"""

from __future__ import annotations

from decimal import MAX_PREC, ROUND_HALF_UP, Context, Decimal

from django.utils.translation import gettext_lazy as _

from targets.figures import Status

DASH = "—"
WAN = Decimal(10_000)
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
# Rounding a huge rate (a one-cent Base) to 0.1 needs more digits than the default 28.
WIDE = Context(prec=MAX_PREC)

STATUS_LABELS = {
    Status.RED: _("Behind"),
    Status.YELLOW: _("Watch"),
    Status.GREEN: _("On track"),
}


def is_chinese(language: str | None) -> bool:
    return (language or "").lower().startswith("zh")


def _grouped(value: Decimal, *, places: Decimal, strip_zeros: bool) -> str:
    """Thousands separators, rounded half up; whole numbers show no decimals."""
    rounded = value.quantize(places, rounding=ROUND_HALF_UP, context=WIDE)
    if rounded == rounded.to_integral_value():
        return f"{rounded:,.0f}"
    text = f"{rounded:,.{-places.as_tuple().exponent}f}"
    return text.rstrip("0").rstrip(".") if strip_zeros else text


def format_money(amount: Decimal | int | None, language: str | None) -> str:
    """8,000,000 → "800万" in Chinese and "8,000,000" in English; None → "—".

    Chinese readers count large sums in 万 (ten thousand): from 10,000 up the amount is
    shown in 万 with at most two decimals and no trailing zeros (12,345,678 → "1,234.57万").
    Smaller amounts, and every amount in English, keep their cents only when they have any.
    """
    if amount is None:
        return DASH
    amount = Decimal(amount)
    magnitude = abs(amount).quantize(CENT, rounding=ROUND_HALF_UP, context=WIDE)
    sign = "-" if amount < 0 and magnitude else ""  # -0.001 reads "0", not "-0"
    if is_chinese(language) and magnitude >= WAN:
        text = _grouped(magnitude / WAN, places=CENT, strip_zeros=True) + "万"
    else:
        text = _grouped(magnitude, places=CENT, strip_zeros=False)
    return sign + text


def format_pct(value: Decimal | None) -> str:
    """One decimal and a percent sign (SPEC §5: rounded only for display); None → "—"."""
    if value is None:
        return DASH
    return f"{Decimal(value).quantize(TENTH, rounding=ROUND_HALF_UP, context=WIDE):,.1f}%"


def status_label(status: str | None) -> str:
    """The translated word for a red / yellow / green status; no status → "—"."""
    if status not in STATUS_LABELS:
        return DASH
    return str(STATUS_LABELS[status])


def format_points(value: Decimal | float | None) -> str:
    """Percentage points (volatility) with one decimal; None → "—"."""
    if value is None:
        return DASH
    return f"{Decimal(value).quantize(TENTH, rounding=ROUND_HALF_UP, context=WIDE):,.1f}"


def bar_width(value: Decimal | None) -> str:
    """A rate as a CSS width between 0 and 100, with a dot whatever the locale."""
    if value is None:
        return "0"
    clamped = min(max(Decimal(value), Decimal(0)), Decimal(100))
    return f"{clamped.quantize(TENTH, rounding=ROUND_HALF_UP, context=WIDE):.1f}"
