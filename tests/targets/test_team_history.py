"""A credit counts for the team its rep belonged to on the close date (SPEC §2, team history)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from targets import services
from targets.figures import figures_for, volatility
from targets.models import Credit, Target
from targets.periods import Quarter
from tests.factories import DealFactory, make_rep

pytestmark = pytest.mark.django_db

D = Decimal
Q1, Q2 = Quarter(2025, 1), Quarter(2025, 2)


@pytest.fixture
def history(org, in_may_2025):
    """Every persona rep in their team since 2024; targets for every unit and rep in Q1 and Q2."""
    reps = [org.alice, org.bob, org.carol, org.dave]
    for rep in reps:
        services.user_move_team(user=rep, team=rep.team, since=date(2024, 1, 1))
    for quarter in (Q1, Q2):
        for unit in (org.company, org.east, org.east1, org.east2, org.north, org.north1):
            services.target_create(
                period=quarter.label, owner_unit=unit, base=D(600000), stretch=D(900000)
            )
        for rep in reps:
            services.target_create(
                period=quarter.label, owner_user=rep, base=D(200000), stretch=D(300000)
            )
    return org


def unit_figures(org, quarter: Quarter, as_of: date) -> dict[str, object]:
    units = {
        "east": org.east,
        "east1": org.east1,
        "east2": org.east2,
        "north": org.north,
        "north1": org.north1,
    }
    targets = {
        name: Target.objects.get(owner_unit=unit, period=quarter.label)
        for name, unit in units.items()
    }
    figures = figures_for(list(targets.values()), as_of=as_of)
    return {name: figures[target.pk] for name, target in targets.items()}


def east_volatility(figures: dict) -> Decimal | None:
    return volatility([figures["east1"], figures["east2"]], Q1.months)


def test_moving_a_rep_today_leaves_last_quarters_regional_figures_and_volatility_alone(history):
    org = history
    DealFactory(owner=org.bob, amount=D(240000), close_date=date(2025, 1, 20))
    DealFactory(owner=org.bob, amount=D(60000), close_date=date(2025, 3, 3))
    DealFactory(owner=org.carol, amount=D(90000), close_date=date(2025, 2, 11))
    DealFactory(owner=org.dave, amount=D(120000), close_date=date(2025, 3, 28))
    as_of = date(2025, 5, 20)
    before = unit_figures(org, Q1, as_of)
    assert before["east1"].actual == D(300000)
    assert east_volatility(before) is not None

    services.user_move_team(user=org.bob, team=org.north1)  # today, 20 May 2025

    after = unit_figures(org, Q1, as_of)
    assert {name: f.actual for name, f in after.items()} == {
        name: f.actual for name, f in before.items()
    }
    assert [m.completion for m in after["east1"].monthly] == [
        m.completion for m in before["east1"].monthly
    ]
    assert after["east"].status == before["east"].status
    assert east_volatility(after) == east_volatility(before)
    # From today on bob sells for North-1.
    DealFactory(owner=org.bob, amount=D(50000), close_date=date(2025, 5, 20))
    now = unit_figures(org, Q2, as_of)
    assert now["north1"].actual == D(50000)
    assert now["east1"].actual == 0


def test_a_backdated_move_moves_only_the_credits_closed_from_that_date(history):
    org = history
    april = DealFactory(owner=org.bob, amount=D(70000), close_date=date(2025, 4, 10))
    may = DealFactory(owner=org.bob, amount=D(30000), close_date=date(2025, 5, 5))
    shared = DealFactory(
        owner=org.alice,
        amount=D(10000),
        close_date=date(2025, 5, 8),
        splits=[services.Split(org.alice, D(50)), services.Split(org.bob, D(50))],
    )

    services.user_move_team(user=org.bob, team=org.east2, since=date(2025, 5, 1))

    assert Credit.objects.get(deal=april).team == org.east1
    assert Credit.objects.get(deal=may).team == org.east2
    assert Credit.objects.get(deal=shared, user=org.alice).team == org.east1
    assert Credit.objects.get(deal=shared, user=org.bob).team == org.east2
    figures = unit_figures(org, Q2, date(2025, 5, 20))
    assert figures["east1"].actual == D(75000)
    assert figures["east2"].actual == D(35000)
    assert figures["east"].actual == D(110000)  # the region counts every deal once
    assert [m.actual for m in figures["east1"].monthly] == [D(70000), D(5000), D(0)]
    assert [m.actual for m in figures["east2"].monthly] == [D(0), D(35000), D(0)]
    # The rep's own target follows the rep, whatever the team.
    bob = Target.objects.get(owner_user=org.bob, period=Q2.label)
    assert figures_for([bob], as_of=date(2025, 5, 20))[bob.pk].actual == D(105000)


def test_a_deal_closed_before_the_first_membership_counts_for_the_first_team(org, in_may_2025):
    erin = make_rep("erin", org.east2)  # in East-2 from today, 20 May 2025
    for unit in (org.east2, org.north1):
        services.target_create(period=Q2.label, owner_unit=unit, base=D(100000), stretch=D(150000))
    imported = DealFactory(owner=erin, amount=D(40000), close_date=date(2025, 4, 15))
    assert Credit.objects.get(deal=imported).team == org.east2

    with time_machine.travel(datetime(2025, 6, 10, 12, tzinfo=ZoneInfo("Asia/Shanghai"))):
        services.user_move_team(user=erin, team=org.north1)  # from 10 June
    later = DealFactory(owner=erin, amount=D(25000), close_date=date(2025, 6, 12))

    assert Credit.objects.get(deal=imported).team == org.east2
    assert Credit.objects.get(deal=later).team == org.north1
    figures = figures_for(Target.objects.filter(period=Q2.label), as_of=date(2025, 6, 30))
    by_unit = {t.owner_unit_id: figures[t.pk] for t in Target.objects.filter(period=Q2.label)}
    assert by_unit[org.east2.pk].actual == D(40000)
    assert by_unit[org.north1.pk].actual == D(25000)


def test_moving_a_rep_today_leaves_last_quarters_allocation_coverage(history):
    org = history
    before = unit_figures(org, Q1, date(2025, 5, 20))
    assert before["east1"].allocated_base == D(400000)  # alice and bob
    services.user_move_team(user=org.alice, team=org.north1, since=date(2025, 5, 20))
    after = unit_figures(org, Q1, date(2025, 5, 20))
    assert after["east1"].allocated_base == D(400000)
    assert after["north1"].allocated_base == D(200000)  # dave only
    # This quarter ends after the move: alice's target now sits under North-1.
    now = unit_figures(org, Q2, date(2025, 5, 20))
    assert now["east1"].allocated_base == D(200000)
    assert now["north1"].allocated_base == D(400000)
