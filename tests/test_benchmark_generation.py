"""The benchmark's generated company is one the services could have written."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F

from benchmarks.figures_sql import compare, figures_by_sql
from benchmarks.generate import TINY, generate
from targets import services
from targets.figures import figures_for
from targets.models import Credit, Deal, OrgUnit, Target, TeamMembership, User
from tests.services import require_service

pytestmark = [pytest.mark.django_db, pytest.mark.services]


@pytest.fixture
def tiny_company():
    require_service(
        "PostgreSQL",
        connection.vendor == "postgresql",
        hint="the generator is PostgreSQL SQL; set DATABASE_URL=postgres://…",
    )
    generate(TINY, vacuum=False)


def credit_rows(deal: Deal) -> list[tuple]:
    return sorted(
        Credit.objects.filter(deal=deal).values_list(
            "user_id", "percent", "amount_cents", "close_date", "close_month", "counts"
        )
    )


def test_it_generates_the_company_it_describes(tiny_company):
    reps = User.objects.filter(username__startswith=TINY.rep_prefix)
    assert reps.count() == TINY.reps
    assert not reps.filter(team__isnull=True).exists()
    assert OrgUnit.objects.count() == TINY.units
    assert Target.objects.count() == TINY.targets
    assert Deal.objects.count() == TINY.deals
    shared = Credit.objects.filter(percent=40).count()
    assert 0 < shared < TINY.deals / 10
    assert Credit.objects.count() == TINY.deals + shared
    won = Deal.objects.filter(won=True).count()
    assert 0.85 * TINY.deals < won < 0.95 * TINY.deals


def test_its_credit_rows_are_those_deal_save_credits_writes(tiny_company):
    shared_ids = Credit.objects.filter(percent=40).values("deal")
    deals = [
        *Deal.objects.filter(pk__in=shared_ids),
        *Deal.objects.exclude(pk__in=shared_ids).order_by("pk")[:50],
    ]
    generated = {deal.pk: credit_rows(deal) for deal in deals}
    for deal in deals:
        services.deal_save_credits(deal=deal)
    assert {deal.pk: credit_rows(deal) for deal in deals} == generated


def test_some_reps_move_team_mid_quarter_and_their_credits_follow_the_close_date(tiny_company):
    moved = TeamMembership.objects.filter(valid_to__isnull=False)
    assert moved.exists()
    for old in moved:
        new = TeamMembership.objects.get(user=old.user, valid_to__isnull=True)
        assert new.valid_from == old.valid_to + timedelta(days=1)
        assert new.team != old.team
        assert old.user.team == new.team
        credits = Credit.objects.filter(user=old.user)
        assert credits.filter(close_date__lt=new.valid_from).exclude(team=old.team).count() == 0
        assert credits.filter(close_date__gte=new.valid_from).exclude(team=new.team).count() == 0
        assert credits.filter(close_date__lt=new.valid_from).exists()
        assert credits.filter(close_date__gte=new.valid_from).exists()


@pytest.mark.parametrize(
    "as_of",
    [
        date(2024, 12, 31),  # before every period: nothing expected yet
        date(2025, 1, 1),
        date(2025, 2, 14),  # the day before a move
        date(2025, 2, 15),  # the day of a move
        date(2025, 11, 15),  # the bench's day
        date(2026, 1, 10),  # every period closed
    ],
)
def test_figures_for_and_the_hand_written_statement_agree_on_every_target(tiny_company, as_of):
    figures = figures_for(Target.objects.all(), as_of=as_of)
    assert len(figures) == TINY.targets
    assert compare(figures, figures_by_sql(as_of=as_of)) == []


def test_they_agree_on_custom_phasing_bonuses_zero_base_and_stretch_equal_to_base(tiny_company):
    rep_targets = Target.objects.filter(owner_user__isnull=False, period="2025Q4").order_by("pk")
    a, b, c, d = rep_targets[:4]
    Target.objects.filter(pk=a.pk).update(
        weight_m1=Decimal("0.5"), weight_m2=Decimal("0.3"), weight_m3=Decimal("0.2")
    )
    Target.objects.filter(pk=b.pk).update(
        weight_m1=Decimal("0"), weight_m2=Decimal("0.4"), weight_m3=Decimal("0.6")
    )
    Target.objects.filter(pk=c.pk).update(base=0, stretch=0)
    Target.objects.filter(pk=d.pk).update(stretch=F("base"), base_bonus=None)
    unit = Target.objects.filter(owner_unit__isnull=False, period="2025Q4").first()
    Target.objects.filter(pk=unit.pk).update(base_bonus=None, stretch_bonus=Decimal("12345.67"))
    for as_of in (date(2025, 10, 1), date(2025, 10, 31), date(2025, 11, 15), date(2025, 12, 31)):
        figures = figures_for(Target.objects.all(), as_of=as_of)
        assert compare(figures, figures_by_sql(as_of=as_of)) == []
    assert any(f.actual for f in figures.values())
