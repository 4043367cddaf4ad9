"""The Django admin works for an administrator who is not a developer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from targets import services
from targets.models import Credit, Deal, OrgUnitClosure, Target
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db

MODELS = ["orgunit", "user", "target", "deal", "targetrevision"]


@pytest.fixture
def admin_client(client, org):
    client.force_login(org.admin)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_every_model_has_a_working_changelist(admin_client, org, model):
    services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(1), stretch=Decimal(2)
    )
    DealFactory(owner=org.alice)
    response = admin_client.get(reverse(f"admin:targets_{model}_changelist"), {"q": "a"})
    assert response.status_code == 200


@pytest.mark.parametrize("model", ["orgunit", "user", "target", "deal"])
def test_every_model_has_a_working_add_form(admin_client, model):
    assert admin_client.get(reverse(f"admin:targets_{model}_add")).status_code == 200


def test_a_non_admin_cannot_open_the_admin(client, org):
    client.force_login(org.director)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302


def test_adding_a_unit_in_the_admin_updates_the_tree(admin_client, org):
    response = admin_client.post(
        reverse("admin:targets_orgunit_add"),
        {
            "name": "East-3",
            "kind": "team",
            "parent": org.east.pk,
            "status_red_below": "60",
            "status_green_above": "80",
            "children-TOTAL_FORMS": "0",
            "children-INITIAL_FORMS": "0",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:500]
    assert OrgUnitClosure.objects.filter(ancestor=org.company, descendant__name="East-3").exists()


def test_adding_a_target_in_the_admin_fills_its_period_bounds(admin_client, org):
    response = admin_client.post(
        reverse("admin:targets_target_add"),
        {
            "period": "2099Q3",
            "measure": "revenue",
            "owner_user": org.alice.pk,
            "base": "100",
            "stretch": "200",
            "revisions-TOTAL_FORMS": "0",
            "revisions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:500]
    target = Target.objects.get(period="2099Q3")
    assert (target.period_start, target.period_end) == (date(2099, 7, 1), date(2099, 9, 30))
    assert target.original_base == Decimal(100)
    assert target.company == org.company


def test_changing_a_deal_in_the_admin_rewrites_its_credit(admin_client, org):
    deal = DealFactory(owner=org.alice, amount=Decimal(100))
    response = admin_client.post(
        reverse("admin:targets_deal_change", args=[deal.pk]),
        {
            "source": deal.source,
            "external_id": deal.external_id,
            "account": deal.account,
            "owner": org.alice.pk,
            "amount": "300.00",
            "stage": "won",
            "won": "on",
            "close_date": "2025-05-15",
            "credits-TOTAL_FORMS": "1",
            "credits-INITIAL_FORMS": "1",
            "credits-0-id": deal.credits.get().pk,
            "credits-0-deal": deal.pk,
            "credits-0-user": org.alice.pk,
            "credits-0-percent": "100",
        },
    )
    assert response.status_code == 302, response.content[:800]
    assert Deal.objects.get(pk=deal.pk).amount == Decimal(300)
    assert Credit.objects.get(deal=deal).amount_cents == 30000


def test_adding_a_split_deal_in_the_admin_credits_both_reps(admin_client, org):
    response = admin_client.post(
        reverse("admin:targets_deal_add"),
        {
            "source": "manual",
            "external_id": "M-ADMIN-1",
            "account": "南京紫金科技有限公司",
            "owner": org.alice.pk,
            "amount": "1000.00",
            "stage": "won",
            "won": "on",
            "close_date": "2025-05-15",
            "credits-TOTAL_FORMS": "2",
            "credits-INITIAL_FORMS": "0",
            "credits-0-user": org.alice.pk,
            "credits-0-percent": "60",
            "credits-1-user": org.bob.pk,
            "credits-1-percent": "40",
        },
    )
    assert response.status_code == 302, response.content[:800]
    credits = dict(Credit.objects.values_list("user__username", "amount_cents"))
    assert credits == {"alice": 60000, "bob": 40000}


def test_admin_splits_that_miss_100_percent_are_a_form_error(admin_client, org):
    response = admin_client.post(
        reverse("admin:targets_deal_add"),
        {
            "source": "manual",
            "external_id": "M-ADMIN-2",
            "account": "南京紫金科技有限公司",
            "owner": org.alice.pk,
            "amount": "1000.00",
            "won": "on",
            "close_date": "2025-05-15",
            "credits-TOTAL_FORMS": "1",
            "credits-INITIAL_FORMS": "0",
            "credits-0-user": org.alice.pk,
            "credits-0-percent": "60",
        },
    )
    assert response.status_code == 200
    assert not Deal.objects.filter(external_id="M-ADMIN-2").exists()


def test_a_started_targets_amounts_are_read_only_in_the_admin(admin_client, org):
    target = services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(100), stretch=Decimal(200)
    )
    page = admin_client.get(
        reverse("admin:targets_target_change", args=[target.pk])
    ).content.decode()
    assert 'name="base"' not in page
    assert 'name="base_bonus"' in page


@pytest.mark.parametrize(
    "name",
    [
        "reviews_proposal_changelist",
        "alerts_notification_changelist",
        "targets_dealremoval_changelist",
    ],
)
def test_review_and_removal_records_have_admin_pages(admin_client, name):
    assert admin_client.get(reverse(f"admin:{name}")).status_code == 200


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"period": "2099Q5"}, "2099Q5"),
        ({"owner_user": "", "owner_unit": ""}, "owner"),
    ],
)
def test_a_bad_target_in_the_admin_is_a_form_error(admin_client, org, changes, message):
    data = {
        "period": "2099Q3",
        "measure": "revenue",
        "owner_user": org.alice.pk,
        "base": "100",
        "stretch": "200",
        "revisions-TOTAL_FORMS": "0",
        "revisions-INITIAL_FORMS": "0",
        **changes,
    }
    response = admin_client.post(reverse("admin:targets_target_add"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Target.objects.exists()


def test_a_rep_without_a_team_cannot_own_a_target_in_the_admin(admin_client, org):
    response = admin_client.post(
        reverse("admin:targets_target_add"),
        {
            "period": "2099Q3",
            "measure": "revenue",
            "owner_user": org.director.pk,
            "base": "100",
            "stretch": "200",
            "revisions-TOTAL_FORMS": "0",
            "revisions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert not Target.objects.exists()
