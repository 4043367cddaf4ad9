from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from targets.periods import EQUAL_THIRDS, IsoWeek, Month, PeriodError, Quarter, expected_fraction


def test_a_quarter_knows_its_months_and_bounds():
    q = Quarter.parse("2025Q2")
    assert [m.label for m in q.months] == ["2025-04", "2025-05", "2025-06"]
    assert (q.start, q.end) == (date(2025, 4, 1), date(2025, 6, 30))


def test_quarters_wrap_around_the_year():
    assert Quarter.parse("2025Q1").previous().label == "2024Q4"
    assert Quarter.parse("2024Q4").next().label == "2025Q1"
    assert Quarter.of(date(2026, 11, 27)).label == "2026Q4"


@pytest.mark.parametrize("label", ["2025Q0", "2025Q5", "25Q1", "2025-Q2", "", "2025q2"])
def test_malformed_quarters_are_refused(label):
    with pytest.raises(PeriodError):
        Quarter.parse(label)


def test_february_has_29_days_in_a_leap_year():
    assert Month.parse("2024-02").days == 29
    assert Month.parse("2025-02").days == 28


def test_iso_weeks_follow_the_iso_calendar():
    # 2025-12-29 (Monday) is in ISO week 1 of 2026.
    assert IsoWeek.of(date(2025, 12, 29)).label == "2026-W01"
    assert IsoWeek.parse("2025-W20").start == date(2025, 5, 12)
    assert IsoWeek.parse("2026-W01").previous().label == "2025-W52"
    assert IsoWeek.parse("2020-W53").end == date(2021, 1, 3)


@pytest.mark.parametrize("label", ["2025-W54", "2025-W00", "2025W20", "2021-W53"])
def test_impossible_weeks_are_refused(label):
    with pytest.raises(PeriodError):
        IsoWeek.parse(label)


def test_an_open_period_includes_its_first_and_last_day():
    q = Quarter.parse("2025Q2")
    assert q.is_open(date(2025, 4, 1))
    assert q.is_open(date(2025, 6, 30))
    assert not q.is_open(date(2025, 7, 1))


def test_expected_fraction_counts_days_of_the_current_month():
    q = Quarter.parse("2025Q2")
    assert expected_fraction(q, EQUAL_THIRDS, date(2025, 3, 31)) == 0
    assert expected_fraction(q, EQUAL_THIRDS, date(2025, 4, 15)) == Fraction(1, 3) * Fraction(
        15, 30
    )
    assert expected_fraction(q, EQUAL_THIRDS, date(2025, 5, 31)) == Fraction(2, 3)
    assert expected_fraction(q, EQUAL_THIRDS, date(2025, 6, 30)) == 1
    assert expected_fraction(q, EQUAL_THIRDS, date(2025, 9, 1)) == 1


def test_expected_fraction_uses_custom_weights():
    q = Quarter.parse("2025Q2")
    weights = (Fraction(1, 5), Fraction(3, 10), Fraction(1, 2))
    assert expected_fraction(q, weights, date(2025, 5, 31)) == Fraction(1, 2)
