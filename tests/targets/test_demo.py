from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import override_settings

from targets.demo import DEMO_PASSWORD, demo_company_seed
from targets.figures import Status, figures_for, volatility
from targets.models import (
    Credit,
    Deal,
    DealSource,
    OrgUnit,
    Role,
    RoleAssignment,
    Target,
    TargetRevision,
    User,
)
from targets.periods import Quarter

TODAY = date(2026, 11, 27)
CURRENT, LAST_CLOSED, OLDER = Quarter(2026, 4), Quarter(2026, 3), Quarter(2026, 2)
REGIONS = {"华东 East", "华北 North", "华南 South", "西部 West"}

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Seed once for the module, inside a transaction that is rolled back at its end.

    Each test's own transaction nests inside it as a savepoint, so a test that writes
    leaves the seed as it found it.
    """
    # One cheap hash: every test below checks all 80 passwords.
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=hashers),
        transaction.atomic(),
    ):
        summary = demo_company_seed(today=TODAY)
        yield summary
        transaction.set_rollback(True)


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (OrgUnit, User, Target, TargetRevision, Deal, Credit)
    }


def test_it_builds_80_people_in_four_regions(demo):
    assert User.objects.count() == 80
    assert demo.people == 80
    assert set(OrgUnit.objects.filter(kind="region").values_list("name", flat=True)) == REGIONS
    assert OrgUnit.objects.filter(kind="team").count() == 12
    assert User.objects.filter(role_assignments__role=Role.REP).count() == 72


def test_each_regional_manager_manages_their_region(demo):
    managed = dict(
        RoleAssignment.objects.filter(role=Role.SALES_MANAGER).values_list(
            "user__username", "unit__name"
        )
    )
    assert managed == {
        "mgr_east": "华东 East",
        "mgr_north": "华北 North",
        "mgr_south": "华南 South",
        "mgr_west": "西部 West",
    }


def test_the_admin_can_use_django_admin(demo):
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser


def test_every_user_can_log_in_with_the_demo_password(demo):
    users = list(User.objects.all())
    assert len(users) == 80
    assert all(user.check_password(DEMO_PASSWORD) for user in users)


def test_east_has_base_800万_and_stretch_1200万_in_every_quarter(demo):
    east = Target.objects.filter(owner_unit__name="华东 East").order_by("period")
    assert [t.period for t in east] == [OLDER.label, LAST_CLOSED.label, CURRENT.label]
    assert {(t.base, t.stretch) for t in east} == {(Decimal(8_000_000), Decimal(12_000_000))}


def test_every_rep_has_a_target_with_bonuses_in_every_quarter(demo):
    for quarter in (OLDER, LAST_CLOSED, CURRENT):
        reps = Target.objects.filter(period=quarter.label, owner_user__isnull=False)
        assert reps.count() == 72
        assert not reps.filter(base_bonus__isnull=True).exists()
        assert not reps.filter(stretch_bonus__isnull=True).exists()


def test_allocation_coverage_is_near_but_not_everywhere_100_percent(demo):
    teams = Target.objects.filter(period=LAST_CLOSED.label, owner_unit__kind="team")
    coverage = [f.allocation_coverage for f in figures_for(teams, as_of=TODAY).values()]
    assert all(Decimal(85) < c < Decimal(110) for c in coverage)
    assert any(c < 100 for c in coverage)


def test_the_last_closed_quarter_looks_like_the_reference_customer(demo):
    targets = Target.objects.filter(period=LAST_CLOSED.label)
    reps = figures_for(targets.filter(owner_user__isnull=False), as_of=TODAY)
    average = sum(f.completion for f in reps.values()) / len(reps)
    regions = figures_for(targets.filter(owner_unit__kind="region"), as_of=TODAY)
    spread = volatility(regions.values(), LAST_CLOSED.months)
    assert 58 <= average <= 64
    assert 20 <= spread <= 26
    assert demo.last_closed_period == LAST_CLOSED.label
    # What the command prints: the same figures (summed in another order, hence the tolerance).
    assert abs(demo.average_rep_completion - average) < Decimal("0.000001")
    assert abs(demo.regions_volatility - spread) < Decimal("0.000001")


def test_current_quarter_reps_are_red_yellow_and_green(demo):
    reps = Target.objects.filter(period=CURRENT.label, owner_user__isnull=False)
    statuses = {f.status for f in figures_for(reps, as_of=TODAY).values()}
    assert statuses == {Status.RED, Status.YELLOW, Status.GREEN}


def test_no_deal_closes_after_today(demo):
    assert not Deal.objects.filter(close_date__gt=TODAY).exists()


def test_deals_come_from_the_crm_and_the_erp_with_stable_ids(demo):
    assert Deal.objects.filter(
        source=DealSource.ERP, external_id__startswith="ERP-2026Q3-"
    ).exists()
    assert Deal.objects.filter(
        source=DealSource.SALESFORCE, external_id__startswith="SF-2026Q3-"
    ).exists()
    assert Deal.objects.filter(won=False).exists()
    assert Deal.objects.filter(account__endswith="有限公司").count() == Deal.objects.count()


def test_some_deals_are_shared_between_two_reps(demo):
    shared = Credit.objects.filter(percent__lt=100).values("deal").distinct()
    assert shared.count() > 10
    deal = Deal.objects.filter(pk__in=shared).first()
    assert sum(c.percent for c in deal.credits.all()) == 100


def test_some_manual_deals_are_confirmed_by_the_manager_and_some_are_not(demo):
    manual = Deal.objects.filter(source=DealSource.MANUAL)
    unconfirmed = manual.filter(confirmed_by__isnull=True)
    assert unconfirmed.exists()
    assert not Credit.objects.filter(deal__in=unconfirmed, counts=True).exists()
    confirmed = manual.filter(confirmed_by__isnull=False).select_related("confirmed_by")
    assert confirmed.exists()
    assert all(d.confirmed_by.username.startswith("mgr_") for d in confirmed)


def test_one_current_quarter_target_has_been_adjusted(demo):
    revision = TargetRevision.objects.select_related("target").get()
    assert revision.target.period == CURRENT.label
    assert revision.target.owner_user is not None
    assert revision.base_after < revision.base_before
    assert revision.target.original_base == revision.base_before
    assert revision.target.base == revision.base_after
    assert revision.reason


def test_running_the_seed_again_changes_nothing(demo):
    before = counts()
    summary = demo_company_seed(today=TODAY)
    assert counts() == before
    assert (summary.created_people, summary.created_targets, summary.created_deals) == (0, 0, 0)
    assert abs(summary.average_rep_completion - demo.average_rep_completion) < Decimal("0.000001")


def test_the_reviews_demo_adds_proposals_in_every_state_and_one_open_case(demo):
    # The reviews app builds on the core's demo company; its own seed comes after it.
    from reviews.demo import demo_reviews_seed
    from reviews.models import AdjustmentCase, Proposal

    first = demo_reviews_seed(today=TODAY)
    assert first.created == 5
    assert set(Proposal.objects.values_list("status", flat=True)) == {
        "draft",
        "submitted",
        "approved",
        "rejected",
        "withdrawn",
    }
    approved = Proposal.objects.get(status="approved")
    assert approved.revision is not None
    assert AdjustmentCase.objects.filter(state="open").count() == 1
    again = demo_reviews_seed(today=TODAY)
    assert again.created == 0
    assert again.open_cases == 1


def test_the_reviews_demo_has_last_months_closed_review_and_this_months_open_one(demo):
    from reviews.demo import demo_reviews_seed
    from reviews.meeting_demo import demo_meetings_seed
    from reviews.models import ReviewMeeting

    demo_reviews_seed(today=TODAY)
    assert demo_meetings_seed(today=TODAY) == 2
    closed = ReviewMeeting.objects.get(month="2026-10")
    assert closed.state == "closed"
    assert closed.minutes["items"][0]["member_scores"]
    assert {i["decision"] for i in closed.minutes["items"][:3]} == {"defer", "keep"}
    current = ReviewMeeting.objects.get(month="2026-11")
    assert current.state == "open"
    assert current.items.filter(carried_from__isnull=False).exists()
    assert demo_meetings_seed(today=TODAY) == 0
