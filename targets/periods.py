"""Calendar logic for quarters ("2025Q2"), months ("2025-05") and ISO weeks ("2025-W20")."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from django.utils.translation import gettext as _

_QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")
_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
# Years whose quarters the calendar maths can handle: there is no year 0, and the last ISO
# week of 9999 ends after `date.max`, so a weekly trend of 9999Q4 could not be drawn.
QUARTER_YEARS = range(1, 9999)


class PeriodError(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, label: str) -> Month:
        match = _MONTH_RE.match(label or "")
        if not match:
            raise PeriodError(_("'%(value)s' is not a month like 2025-05.") % {"value": label})
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def end(self) -> date:
        return date(self.year, self.month, self.days)

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    quarter: int

    @classmethod
    def parse(cls, label: str) -> Quarter:
        match = _QUARTER_RE.match(label or "")
        if not match or int(match[1]) not in QUARTER_YEARS:
            raise PeriodError(_("'%(value)s' is not a quarter like 2025Q2.") % {"value": label})
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def label(self) -> str:
        return f"{self.year:04d}Q{self.quarter}"

    @property
    def months(self) -> tuple[Month, Month, Month]:
        first = (self.quarter - 1) * 3 + 1
        return tuple(Month(self.year, first + i) for i in range(3))  # type: ignore[return-value]

    @property
    def start(self) -> date:
        return self.months[0].start

    @property
    def end(self) -> date:
        return self.months[2].end

    def previous(self) -> Quarter:
        if self.quarter == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.quarter - 1)

    def next(self) -> Quarter:
        if self.quarter == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.quarter + 1)

    def is_open(self, on: date) -> bool:
        return self.start <= on <= self.end

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, label: str) -> IsoWeek:
        match = _WEEK_RE.match(label or "")
        if not match:
            raise PeriodError(_("'%(value)s' is not an ISO week like 2025-W20.") % {"value": label})
        year, week = int(match[1]), int(match[2])
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError as exc:
            raise PeriodError(
                _("%(year)s has no ISO week %(week)s.") % {"year": year, "week": week}
            ) from exc
        return cls(year, week)

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"

    @property
    def start(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    def previous(self) -> IsoWeek:
        return IsoWeek.of(self.start - timedelta(days=7))

    def __str__(self) -> str:
        return self.label


# Exact thirds: Decimal(1)/3 would leave 99.99…% after a full quarter.
EQUAL_THIRDS: tuple[Fraction, Fraction, Fraction] = (Fraction(1, 3),) * 3  # type: ignore[assignment]


def expected_fraction(
    quarter: Quarter, weights: tuple[Fraction | Decimal, ...], as_of: date
) -> Fraction:
    """Exact share of a quarter's amount expected by the end of `as_of` (SPEC §3 phasing)."""
    if as_of < quarter.start:
        return Fraction(0)
    if as_of > quarter.end:
        return Fraction(1)
    fraction = Fraction(0)
    for month, weight in zip(quarter.months, weights, strict=True):
        if as_of > month.end:
            fraction += Fraction(weight)
        elif as_of >= month.start:
            fraction += Fraction(weight) * Fraction(as_of.day, month.days)
    return fraction


def to_decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)
