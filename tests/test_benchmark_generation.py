"""The benchmark's generated company is one the services could have written."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from benchmarks.generate import TINY, generate
from benchmarks.run import check_figures, hand_written_aggregate
from targets import services
from targets.figures import figures_for
from targets.models import Credit, Deal, OrgUnit, Target, User
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


def test_figures_agree_with_the_hand_written_aggregate(tiny_company):
    as_of = date(2025, 11, 15)
    figures = figures_for(Target.objects.all(), as_of=as_of)
    aggregate = hand_written_aggregate(start=TINY.first_day, as_of=as_of)
    assert len(figures) == TINY.targets
    assert check_figures(figures, aggregate) == 0
    assert any(f.actual for f in figures.values())
