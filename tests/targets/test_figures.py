from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from targets import services
from targets.figures import figures_for, trend, volatility
from targets.models import Target
from targets.periods import Month
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db

D = Decimal


def rep_target(user, base="300000", stretch="600000", **kwargs) -> Target:
    return services.target_create(
        period="2025Q2", owner_user=user, base=D(base), stretch=D(stretch), **kwargs
    )


def unit_target(unit, base="900000", stretch="1200000") -> Target:
    return services.target_create(
        period="2025Q2", owner_unit=unit, base=D(base), stretch=D(stretch)
    )


def test_completion_is_actual_over_base(org):
    target = rep_target(org.alice)
    DealFactory(owner=org.alice, amount=D("150000"), close_date=date(2025, 4, 10))
    figures = figures_for([target], as_of=date(2025, 6, 30))[target.pk]
    assert figures.actual == D("150000")
    assert figures.completion == D(50)


def test_pace_compares_with_the_phased_expectation(org):
    target = rep_target(org.alice, phasing=[D("0.5"), D("0.25"), D("0.25")])
    DealFactory(owner=org.alice, amount=D("100000"), close_date=date(2025, 4, 10))
    # April half done → expected = 300000 × 0.5 × 15/30 = 75000
    figures = figures_for([target], as_of=date(2025, 4, 15))[target.pk]
    assert figures.expected_base == D(75000)
    assert figures.pace.quantize(D("0.1")) == D("133.3")
    assert figures.status == "green"


def test_deals_after_as_of_do_not_count(org):
    target = rep_target(org.alice)
    DealFactory(owner=org.alice, amount=D("100000"), close_date=date(2025, 5, 20))
    assert figures_for([target], as_of=date(2025, 5, 19))[target.pk].actual == 0
    assert figures_for([target], as_of=date(2025, 5, 20))[target.pk].actual == D(100000)


def test_lost_deals_do_not_count(org):
    target = rep_target(org.alice)
    DealFactory(owner=org.alice, amount=D("100000"), won=False)
    assert figures_for([target], as_of=date(2025, 6, 30))[target.pk].actual == 0


def test_closed_period_status_comes_from_completion(org):
    target = rep_target(org.alice)
    DealFactory(owner=org.alice, amount=D("180000"), close_date=date(2025, 6, 29))
    figures = figures_for([target], as_of=date(2025, 7, 5))[target.pk]
    assert figures.completion == D(60)
    assert figures.status == "yellow"


@pytest.mark.parametrize(
    ("amount", "status"),
    [("179999.99", "red"), ("180000", "yellow"), ("240000", "yellow"), ("240000.01", "green")],
)
def test_status_thresholds_are_60_and_80(org, amount, status):
    target = rep_target(org.alice)
    DealFactory(owner=org.alice, amount=D(amount), close_date=date(2025, 6, 1))
    assert figures_for([target], as_of=date(2025, 7, 1))[target.pk].status == status


def test_company_thresholds_override_the_defaults(org):
    org.company.status_red_below, org.company.status_green_above = D(50), D(70)
    org.company.save()
    target = rep_target(org.alice)
    DealFactory(owner=org.alice, amount=D("165000"), close_date=date(2025, 6, 1))
    assert figures_for([target], as_of=date(2025, 7, 1))[target.pk].status == "yellow"


def test_zero_base_gives_no_rate_and_no_status(org):
    target = rep_target(org.alice, base="0", stretch="0")
    DealFactory(owner=org.alice, amount=D("1000"))
    figures = figures_for([target], as_of=date(2025, 5, 20))[target.pk]
    assert (figures.completion, figures.pace, figures.status, figures.stretch_progress) == (
        None,
        None,
        None,
        None,
    )


def test_before_the_period_starts_there_is_no_pace_or_status(org):
    target = rep_target(org.alice)
    figures = figures_for([target], as_of=date(2025, 3, 31))[target.pk]
    assert figures.pace is None
    assert figures.status is None


def test_stretch_progress_is_clamped(org):
    target = rep_target(org.alice, base="300000", stretch="600000")
    DealFactory(owner=org.alice, amount=D("450000"))
    assert figures_for([target], as_of=date(2025, 6, 30))[target.pk].stretch_progress == D(50)
    DealFactory(owner=org.alice, amount=D("900000"))
    assert figures_for([target], as_of=date(2025, 6, 30))[target.pk].stretch_progress == D(100)


def test_incentive_adds_base_bonus_and_stretch_share(org):
    target = rep_target(org.alice, base_bonus=D("10000"), stretch_bonus=D("20000"))
    DealFactory(owner=org.alice, amount=D("450000"))
    assert figures_for([target], as_of=date(2025, 6, 30))[target.pk].incentive == D("20000")


def test_incentive_below_base_is_zero(org):
    target = rep_target(org.alice, base_bonus=D("10000"), stretch_bonus=D("20000"))
    DealFactory(owner=org.alice, amount=D("100000"))
    assert figures_for([target], as_of=date(2025, 6, 30))[target.pk].incentive == 0


def test_split_deal_counts_each_reps_share_and_the_unit_once(org):
    alice_t, bob_t, dave_t = rep_target(org.alice), rep_target(org.bob), rep_target(org.dave)
    east_t, company_t = unit_target(org.east), unit_target(org.company)
    DealFactory(
        owner=org.alice,
        amount=D("100000"),
        splits=[
            services.Split(org.alice, D(50)),
            services.Split(org.bob, D(30)),
            services.Split(org.dave, D(20)),
        ],
    )
    figures = figures_for(
        Target.objects.filter(pk__in=[alice_t.pk, bob_t.pk, dave_t.pk, east_t.pk, company_t.pk]),
        as_of=date(2025, 6, 30),
    )
    assert figures[alice_t.pk].actual == D(50000)
    assert figures[bob_t.pk].actual == D(30000)
    assert figures[dave_t.pk].actual == D(20000)
    assert figures[east_t.pk].actual == D(80000)
    assert figures[company_t.pk].actual == D(100000)


def test_unconfirmed_manual_deal_counts_only_after_confirmation(org):
    target = rep_target(org.alice)
    deal = services.deal_create_manual(
        author=org.alice,
        account="手工客户",
        owner=org.alice,
        amount=D("50000"),
        close_date=date(2025, 5, 1),
        today=date(2025, 5, 2),
    )
    assert figures_for([target], as_of=date(2025, 6, 30))[target.pk].actual == 0
    services.deal_confirm(deal=deal, confirmed_by=org.mgr_east)
    assert figures_for([target], as_of=date(2025, 6, 30))[target.pk].actual == D(50000)


def test_allocation_coverage_sums_children_base(org):
    east = unit_target(org.east, base="1000000", stretch="1500000")
    unit_target(org.east1, base="600000", stretch="700000")
    unit_target(org.east2, base="300000", stretch="400000")
    figures = figures_for([east], as_of=date(2025, 5, 1))[east.pk]
    assert figures.allocation_coverage == D(90)
    assert figures.unallocated == D(100000)


def test_target_without_children_has_no_coverage(org):
    target = rep_target(org.alice)
    assert figures_for([target], as_of=date(2025, 5, 1))[target.pk].allocation_coverage is None


def test_monthly_completion_uses_the_months_weight(org):
    target = rep_target(org.alice, phasing=[D("0.2"), D("0.3"), D("0.5")])
    DealFactory(owner=org.alice, amount=D("30000"), close_date=date(2025, 4, 3))
    monthly = figures_for([target], as_of=date(2025, 6, 30))[target.pk].monthly
    assert monthly[0].month == Month(2025, 4)
    assert monthly[0].completion == D(50)
    assert monthly[1].completion == 0


def test_volatility_is_population_stdev_of_childrens_monthly_completion(org):
    east1 = unit_target(org.east1, base="300000", stretch="400000")
    east2 = unit_target(org.east2, base="300000", stretch="400000")
    DealFactory(owner=org.alice, amount=D("60000"), close_date=date(2025, 4, 3))  # 60 %
    DealFactory(owner=org.carol, amount=D("100000"), close_date=date(2025, 4, 3))  # 100 %
    figures = figures_for([east1, east2], as_of=date(2025, 6, 30))
    assert volatility(figures.values(), [Month(2025, 4)]) == D(20)


def test_volatility_needs_two_children(org):
    east1 = unit_target(org.east1)
    figures = figures_for([east1], as_of=date(2025, 6, 30))
    assert volatility(figures.values(), [Month(2025, 4)]) is None


def test_figures_cost_a_fixed_number_of_queries(org, django_assert_max_num_queries):
    targets = [rep_target(u) for u in (org.alice, org.bob, org.carol, org.dave)]
    targets += [unit_target(u) for u in (org.east, org.north, org.company)]
    for i in range(20):
        DealFactory(owner=[org.alice, org.bob, org.carol, org.dave][i % 4], amount=D(1000 + i))
    with django_assert_max_num_queries(3):
        figures_for(Target.objects.all(), as_of=date(2025, 6, 30))


def test_weekly_trend_accumulates_actuals(org):
    target = rep_target(org.alice)
    DealFactory(owner=org.alice, amount=D("10000"), close_date=date(2025, 4, 2))
    DealFactory(owner=org.alice, amount=D("20000"), close_date=date(2025, 4, 9))
    points = trend(target, grain="week", as_of=date(2025, 4, 10))
    assert [p.period_label for p in points] == ["2025-W14", "2025-W15"]
    assert [p.actual_cumulative for p in points] == [D(10000), D(30000)]
    assert points[-1].base_expected.quantize(D("0.01")) == D("33333.33")


def test_a_sliced_queryset_gives_figures_for_the_slice(org):
    targets = [rep_target(u) for u in (org.alice, org.bob, org.carol)]
    figures = figures_for(Target.objects.order_by("pk")[:2], as_of=date(2025, 6, 30))
    assert set(figures) == {targets[0].pk, targets[1].pk}
