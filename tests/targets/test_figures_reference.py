"""The set-based figures agree with a plain, row-by-row reading of the same deals.

Reps move teams mid-quarter too: the reference reads each credit's team from the rep's
memberships on the close date (SPEC §2), never from the credit's own team column.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from targets import services
from targets.figures import figures_for
from targets.models import Credit, OrgUnitClosure, Target, TeamMembership
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db


def team_on(user_id: int, day: date) -> int | None:
    """The rep's team on `day`: the membership covering it; before the first, the first."""
    for membership in TeamMembership.objects.filter(user_id=user_id).order_by("valid_from"):
        if membership.valid_to is None or membership.valid_to >= day:
            return membership.team_id
    return None


def reference_actual(target: Target, as_of: date) -> Decimal:
    if target.owner_user_id:

        def belongs(credit):
            return credit.user_id == target.owner_user_id
    else:
        units = set(
            OrgUnitClosure.objects.filter(ancestor=target.owner_unit).values_list(
                "descendant", flat=True
            )
        )

        def belongs(credit):
            return team_on(credit.user_id, credit.deal.close_date) in units

    total = 0
    for credit in Credit.objects.select_related("deal"):
        deal = credit.deal
        in_period = target.period_start <= deal.close_date <= min(target.period_end, as_of)
        counts = deal.won and deal.confirmed
        if in_period and counts and belongs(credit):
            total += credit.amount_cents
    return Decimal(total) / 100


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_deals_roll_up_exactly(org, seed):
    rng = random.Random(seed)
    reps = [org.alice, org.bob, org.carol, org.dave]
    for rep in reps:  # in their teams since before the deals, not since the test's today
        services.user_move_team(user=rep, team=rep.team, since=date(2024, 1, 1))
    # Mid-quarter moves, each some time after the deals start coming in:
    # (after deal no., rep, team, since) — dave leaves for East-1 and comes back.
    moves = {
        20: (org.bob, org.east2, date(2025, 1, 1) + timedelta(days=rng.randrange(30, 80))),
        35: (org.dave, org.east1, date(2025, 4, 1) + timedelta(days=rng.randrange(10, 40))),
        50: (org.dave, org.north1, date(2025, 5, 20) + timedelta(days=rng.randrange(0, 30))),
    }
    targets = [
        services.target_create(
            period=p, owner_user=r, base=Decimal(100000), stretch=Decimal(200000)
        )
        for p in ("2025Q1", "2025Q2")
        for r in reps
    ] + [
        services.target_create(
            period=p, owner_unit=u, base=Decimal(300000), stretch=Decimal(400000)
        )
        for p in ("2025Q1", "2025Q2")
        for u in (org.company, org.east, org.east1, org.east2, org.north, org.north1)
    ]
    for i in range(60):
        if i in moves:
            rep, team, since = moves[i]
            services.user_move_team(user=rep, team=team, since=since)
        owner = rng.choice(reps)
        close = date(2025, 1, 1) + timedelta(days=rng.randrange(200))
        amount = Decimal(rng.randrange(1, 10_000_000)) / 100
        splits = None
        if rng.random() < 0.3:
            other = rng.choice([r for r in reps if r != owner])
            share = Decimal(rng.randrange(1, 100))
            splits = [services.Split(owner, share), services.Split(other, 100 - share)]
        if rng.random() < 0.2:
            deal = services.deal_create_manual(
                author=owner,
                account=f"手工{i}",
                owner=owner,
                amount=amount,
                close_date=close,
                splits=splits,
                today=close,  # entered the day it closed
            )
            if rng.random() < 0.5:
                services.deal_confirm(deal=deal, confirmed_by=org.director)
        else:
            DealFactory(
                owner=owner, amount=amount, close_date=close, won=rng.random() < 0.8, splits=splits
            )
    assert TeamMembership.objects.filter(user=org.dave).count() == 3
    for as_of in (date(2025, 2, 14), date(2025, 5, 31), date(2025, 8, 1)):
        figures = figures_for(Target.objects.all(), as_of=as_of)
        for target in targets:
            assert figures[target.pk].actual == reference_actual(target, as_of), (target, as_of)
