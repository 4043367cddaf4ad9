"""The Django admin works for an administrator who is not a developer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from targets import services
from targets.models import (
    Credit,
    Deal,
    DealRemoval,
    DealSource,
    OrgUnit,
    OrgUnitClosure,
    Role,
    RoleAssignment,
    Target,
    TeamMembership,
    User,
)
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db

MODELS = ["orgunit", "user", "target", "deal", "targetrevision"]


@pytest.fixture
def admin_client(client, org):
    client.force_login(org.admin)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # messages are asserted in English
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


def test_admin_splits_that_miss_100_percent_are_a_form_error(admin_client, org, in_may_2025):
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


# Every admin write goes through a service (issue 5, 1.7) ------------------------------


def _unit_form(unit, **changes):
    return {
        "name": unit.name,
        "kind": unit.kind,
        "parent": unit.parent_id or "",
        "status_red_below": "60",
        "status_green_above": "80",
        "children-TOTAL_FORMS": "0",
        "children-INITIAL_FORMS": "0",
        "members-TOTAL_FORMS": "0",
        "members-INITIAL_FORMS": "0",
        **changes,
    }


def test_moving_a_unit_under_its_own_sub_unit_is_a_form_error(admin_client, org):
    response = admin_client.post(
        reverse("admin:targets_orgunit_change", args=[org.east.pk]),
        _unit_form(org.east, parent=org.east1.pk),
    )
    assert response.status_code == 200
    assert "its own sub-unit" in response.content.decode()
    assert OrgUnit.objects.get(pk=org.east.pk).parent_id == org.company.pk
    assert OrgUnitClosure.objects.filter(ancestor=org.east, descendant=org.east1).exists()


def test_moving_a_unit_elsewhere_in_the_admin_rebuilds_the_tree(admin_client, org):
    response = admin_client.post(
        reverse("admin:targets_orgunit_change", args=[org.east1.pk]),
        _unit_form(org.east1, parent=org.north.pk),
    )
    assert response.status_code == 302, response.content[:500]
    assert OrgUnitClosure.objects.filter(ancestor=org.north, descendant=org.east1).exists()
    assert not OrgUnitClosure.objects.filter(ancestor=org.east, descendant=org.east1).exists()


def test_deleting_a_unit_that_still_has_members_is_refused_naming_them(admin_client, org):
    response = admin_client.post(
        reverse("admin:targets_orgunit_delete", args=[org.east1.pk]), {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert str(org.alice) in response.content.decode()
    assert OrgUnit.objects.filter(pk=org.east1.pk).exists()


def test_deleting_an_empty_unit_in_the_admin_goes_through_the_service(admin_client, org):
    empty = services.org_unit_save(name="East-9", kind="team", parent=org.east)
    response = admin_client.post(
        reverse("admin:targets_orgunit_delete", args=[empty.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not OrgUnitClosure.objects.filter(descendant_id=empty.pk).exists()


def test_bulk_deleting_units_with_members_is_refused_and_deletes_nothing(admin_client, org):
    empty = services.org_unit_save(name="East-9", kind="team", parent=org.east)
    response = admin_client.post(
        reverse("admin:targets_orgunit_changelist"),
        {"action": "delete_selected", "_selected_action": [empty.pk, org.east1.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert str(org.alice) in response.content.decode()
    assert OrgUnit.objects.filter(pk__in=[empty.pk, org.east1.pk]).count() == 2


def _target_form(target, **changes):
    return {
        "base": str(target.base),
        "stretch": str(target.stretch),
        "weight_m1": "",
        "weight_m2": "",
        "weight_m3": "",
        "base_bonus": "",
        "stretch_bonus": "",
        "read_version": str(target.version),
        "revisions-TOTAL_FORMS": "0",
        "revisions-INITIAL_FORMS": "0",
        **changes,
    }


def test_editing_an_unlocked_target_keeps_its_original_and_bumps_its_version(admin_client, org):
    target = services.target_create(
        period="2099Q3", owner_user=org.alice, base=Decimal(100), stretch=Decimal(200)
    )
    response = admin_client.post(
        reverse("admin:targets_target_change", args=[target.pk]),
        _target_form(target, base="150", stretch="250"),
    )
    assert response.status_code == 302, response.content[:800]
    target.refresh_from_db()
    assert (target.base, target.original_base) == (Decimal(150), Decimal(150))
    assert (target.stretch, target.original_stretch) == (Decimal(250), Decimal(250))
    assert target.version == 2


def test_a_stale_target_edit_in_the_admin_is_a_form_error(admin_client, org):
    target = services.target_create(
        period="2099Q3", owner_user=org.alice, base=Decimal(100), stretch=Decimal(200)
    )
    form = _target_form(target, base="150", stretch="250")
    services.target_update(target=target, base=Decimal(120))
    response = admin_client.post(reverse("admin:targets_target_change", args=[target.pk]), form)
    assert response.status_code == 200
    assert "Someone else changed this target" in response.content.decode()
    assert Target.objects.get(pk=target.pk).base == Decimal(120)


def test_stretch_below_base_in_the_admin_is_a_readable_form_error(admin_client, org):
    target = services.target_create(
        period="2099Q3", owner_user=org.alice, base=Decimal(100), stretch=Decimal(200)
    )
    response = admin_client.post(
        reverse("admin:targets_target_change", args=[target.pk]),
        _target_form(target, stretch="50"),
    )
    assert response.status_code == 200
    assert "Stretch must be at least Base." in response.content.decode()


def test_a_locked_targets_amounts_cannot_be_posted_in_the_admin(admin_client, org, in_may_2025):
    target = services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(100), stretch=Decimal(200)
    )
    response = admin_client.post(
        reverse("admin:targets_target_change", args=[target.pk]),
        _target_form(target, base="1", stretch="2", base_bonus="500"),
    )
    assert response.status_code == 302, response.content[:800]
    target.refresh_from_db()
    assert (target.base, target.stretch, target.base_bonus) == (
        Decimal(100),
        Decimal(200),
        Decimal(500),
    )
    page = admin_client.get(reverse("admin:targets_target_change", args=[target.pk]))
    assert 'name="stretch"' not in page.content.decode()
    assert 'name="weight_m1"' not in page.content.decode()


def test_a_locked_target_cannot_be_deleted_in_the_admin(admin_client, org, in_may_2025):
    target = services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(100), stretch=Decimal(200)
    )
    response = admin_client.post(
        reverse("admin:targets_target_delete", args=[target.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Target.objects.filter(pk=target.pk).exists()


def test_deleting_a_deal_in_the_admin_records_its_removal(admin_client, org):
    deal = DealFactory(owner=org.alice)
    response = admin_client.post(
        reverse("admin:targets_deal_delete", args=[deal.pk]),
        {"post": "yes", "reason": "Duplicate of D-1"},
    )
    assert response.status_code == 302
    removal = DealRemoval.objects.get()
    assert (removal.external_id, removal.removed_by, removal.reason) == (
        deal.external_id,
        org.admin,
        "Duplicate of D-1",
    )
    assert not Deal.objects.exists()


def test_the_deal_delete_page_asks_for_a_reason(admin_client, org):
    deal = DealFactory(owner=org.alice)
    page = admin_client.get(reverse("admin:targets_deal_delete", args=[deal.pk])).content
    assert b'name="reason"' in page


def test_bulk_deleting_deals_in_the_admin_records_each_removal(admin_client, org):
    deals = [DealFactory(owner=org.alice), DealFactory(owner=org.bob)]
    changelist = reverse("admin:targets_deal_changelist")
    selected = {"action": "delete_selected", "_selected_action": [d.pk for d in deals]}
    assert b'name="reason"' in admin_client.post(changelist, selected).content
    response = admin_client.post(changelist, {**selected, "post": "yes", "reason": ""})
    assert response.status_code == 302
    assert not Deal.objects.exists()
    removals = DealRemoval.objects.all()
    assert {r.external_id for r in removals} == {d.external_id for d in deals}
    assert {(r.removed_by, r.reason) for r in removals} == {
        (org.admin, "Deleted in the administration.")
    }


def _deal_form(**changes):
    return {
        "account": "南京紫金科技有限公司",
        "owner": "",
        "amount": "1000.00",
        "stage": "won",
        "won": "on",
        "close_date": "2025-05-15",
        "external_id": "",
        "credits-TOTAL_FORMS": "0",
        "credits-INITIAL_FORMS": "0",
        **changes,
    }


def test_a_deal_added_in_the_admin_is_manual_and_awaits_confirmation(
    admin_client, org, in_may_2025
):
    response = admin_client.post(
        reverse("admin:targets_deal_add"),
        _deal_form(owner=org.alice.pk, source="erp", external_id="ERP-7"),
    )
    assert response.status_code == 302, response.content[:800]
    deal = Deal.objects.get()
    assert (deal.source, deal.external_id, deal.created_by) == ("manual", "ERP-7", org.admin)
    assert deal.confirmed_by is None
    assert not Credit.objects.get(deal=deal).counts


def test_the_admin_is_not_offered_a_source_or_a_confirmation(admin_client, org, in_may_2025):
    page = admin_client.get(reverse("admin:targets_deal_add")).content.decode()
    assert 'name="source"' not in page
    assert 'name="confirmed_by"' not in page
    services.deal_create_manual(
        author=org.bob, account="A", owner=org.alice, amount=Decimal(1), close_date=date(2025, 5, 1)
    )
    changelist = admin_client.get(reverse("admin:targets_deal_changelist")).content.decode()
    assert "confirm" not in changelist.split('name="action"')[1].split("</select>")[0]


def test_a_manual_deal_outside_its_limits_is_a_form_error_in_the_admin(
    admin_client, org, in_may_2025
):
    response = admin_client.post(
        reverse("admin:targets_deal_add"),
        _deal_form(owner=org.alice.pk, amount="0", close_date="2030-01-01"),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "The amount must be above zero." in page
    assert "A won deal cannot close after today." in page
    assert not Deal.objects.exists()


def test_crediting_someone_who_is_not_a_rep_is_a_form_error_in_the_admin(
    admin_client, org, in_may_2025
):
    response = admin_client.post(
        reverse("admin:targets_deal_add"),
        _deal_form(
            owner=org.alice.pk,
            **{
                "credits-TOTAL_FORMS": "2",
                "credits-0-user": org.alice.pk,
                "credits-0-percent": "50",
                "credits-1-user": org.hrbp.pk,
                "credits-1-percent": "50",
            },
        ),
    )
    assert response.status_code == 200
    assert "Only active sales reps can be credited" in response.content.decode()
    assert not Deal.objects.exists()


def test_adding_a_split_deal_in_the_admin_credits_both_reps(admin_client, org, in_may_2025):
    response = admin_client.post(
        reverse("admin:targets_deal_add"),
        _deal_form(
            owner=org.alice.pk,
            **{
                "credits-TOTAL_FORMS": "2",
                "credits-0-user": org.alice.pk,
                "credits-0-percent": "60",
                "credits-1-user": org.bob.pk,
                "credits-1-percent": "40",
            },
        ),
    )
    assert response.status_code == 302, response.content[:800]
    credits = dict(Credit.objects.values_list("user__username", "amount_cents"))
    assert credits == {"alice": 60000, "bob": 40000}


@pytest.mark.parametrize("source", [DealSource.ERP, DealSource.MANUAL])
def test_an_existing_deal_is_read_only_in_the_admin(admin_client, org, source, in_may_2025):
    if source == DealSource.MANUAL:
        deal = services.deal_create_manual(
            author=org.admin,
            account="A",
            owner=org.alice,
            amount=Decimal(100),
            close_date=date(2025, 5, 1),
        )
    else:
        deal = DealFactory(owner=org.alice, amount=Decimal(100))
    url = reverse("admin:targets_deal_change", args=[deal.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="amount"' not in page
    assert 'name="credits-0-percent"' not in page
    response = admin_client.post(url, {"amount": "300.00", "source": "manual"})
    assert response.status_code == 403
    assert Deal.objects.get(pk=deal.pk).amount == Decimal(100)


def _user_form(user, **changes):
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "team": user.team_id or "",
        "team_since": "",
        "language": "",
        "is_active": "on",
        "role_assignments-TOTAL_FORMS": "0",
        "role_assignments-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        **changes,
    }


def _roles(user):
    rows = list(user.role_assignments.all())
    data = {
        "role_assignments-TOTAL_FORMS": str(len(rows)),
        "role_assignments-INITIAL_FORMS": str(len(rows)),
    }
    for i, row in enumerate(rows):
        data |= {
            f"role_assignments-{i}-id": row.pk,
            f"role_assignments-{i}-user": user.pk,
            f"role_assignments-{i}-role": row.role,
            f"role_assignments-{i}-unit": row.unit_id or "",
        }
    return data


def test_changing_a_users_team_in_the_admin_keeps_the_team_history(admin_client, org):
    services.user_move_team(user=org.alice, team=org.east1, since=date(2025, 1, 1))
    response = admin_client.post(
        reverse("admin:targets_user_change", args=[org.alice.pk]),
        _user_form(org.alice, team=org.east2.pk, team_since="2025-04-01", **_roles(org.alice)),
    )
    assert response.status_code == 302, response.content[:800]
    history = list(TeamMembership.objects.filter(user=org.alice).values_list("team", "valid_to"))
    assert history[-1] == (org.east2.pk, None)
    assert (org.east1.pk, date(2025, 3, 31)) in history
    assert User.objects.get(pk=org.alice.pk).team == org.east2
    assert RoleAssignment.objects.filter(user=org.alice, role=Role.REP).exists()


def test_a_team_change_dated_in_the_future_is_a_form_error(admin_client, org, in_may_2025):
    response = admin_client.post(
        reverse("admin:targets_user_change", args=[org.alice.pk]),
        _user_form(org.alice, team=org.east2.pk, team_since="2025-06-01", **_roles(org.alice)),
    )
    assert response.status_code == 200
    assert User.objects.get(pk=org.alice.pk).team == org.east1


def test_the_user_page_shows_the_team_history(admin_client, org):
    page = admin_client.get(reverse("admin:targets_user_change", args=[org.alice.pk]))
    assert 'name="team_since"' in page.content.decode()
    assert "memberships-TOTAL_FORMS" in page.content.decode()


def test_a_role_without_a_unit_is_a_form_error_in_the_admin(admin_client, org):
    data = _user_form(org.alice, **_roles(org.alice))
    data |= {
        "role_assignments-TOTAL_FORMS": str(int(data["role_assignments-TOTAL_FORMS"]) + 1),
        "role_assignments-1-user": org.alice.pk,
        "role_assignments-1-role": Role.SALES_MANAGER,
        "role_assignments-1-unit": "",
    }
    response = admin_client.post(reverse("admin:targets_user_change", args=[org.alice.pk]), data)
    assert response.status_code == 200
    assert "needs the unit it applies to" in response.content.decode()
    assert not RoleAssignment.objects.filter(user=org.alice, role=Role.SALES_MANAGER).exists()


def test_granting_admin_in_the_admin_makes_the_user_staff(admin_client, org):
    data = _user_form(org.alice, **_roles(org.alice))
    data |= {
        "role_assignments-TOTAL_FORMS": str(int(data["role_assignments-TOTAL_FORMS"]) + 1),
        "role_assignments-1-user": org.alice.pk,
        "role_assignments-1-role": Role.ADMIN,
        "role_assignments-1-unit": "",
    }
    response = admin_client.post(reverse("admin:targets_user_change", args=[org.alice.pk]), data)
    assert response.status_code == 302, response.content[:800]
    alice = User.objects.get(pk=org.alice.pk)
    assert alice.is_staff and alice.is_superuser


def test_deleting_a_user_who_owns_deals_deactivates_them(admin_client, org):
    DealFactory(owner=org.alice)
    response = admin_client.post(
        reverse("admin:targets_user_delete", args=[org.alice.pk]), {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert "deactivated instead of deleted" in response.content.decode()
    assert User.objects.get(pk=org.alice.pk).is_active is False


def test_bulk_deleting_users_deletes_only_those_without_a_record(admin_client, org):
    DealFactory(owner=org.alice)
    newcomer = services.user_save(username="newcomer")
    response = admin_client.post(
        reverse("admin:targets_user_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [org.alice.pk, newcomer.pk],
            "post": "yes",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "deactivated instead of deleted" in response.content.decode()
    assert "Successfully deleted" not in response.content.decode()
    assert not User.objects.filter(pk=newcomer.pk).exists()
    assert User.objects.get(pk=org.alice.pk).is_active is False


@pytest.mark.parametrize("model", ["targetrevision", "dealremoval"])
def test_revisions_and_removals_cannot_be_changed_or_deleted_in_the_admin(admin_client, org, model):
    deal = DealFactory(owner=org.alice)
    services.deal_remove(deal=deal, reason="gone", removed_by=org.admin)
    target = services.target_create(
        period="2099Q3", owner_user=org.alice, base=Decimal(100), stretch=Decimal(200)
    )
    services.target_revise(
        target=target, base=Decimal(90), stretch=Decimal(200), reason="r", decided_by=org.director
    )
    obj = (DealRemoval.objects if model == "dealremoval" else target.revisions).first()
    change = reverse(f"admin:targets_{model}_change", args=[obj.pk])
    assert 'name="reason"' not in admin_client.get(change).content.decode()
    assert admin_client.post(change, {"reason": "x"}).status_code == 403
    delete = reverse(f"admin:targets_{model}_delete", args=[obj.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403


@pytest.mark.parametrize("model", ["orgunit", "user"])
def test_admin_autocomplete_still_answers(admin_client, org, model):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "East",
            "app_label": "targets",
            "model_name": "target",
            "field_name": {"orgunit": "owner_unit", "user": "owner_user"}[model],
        },
    )
    assert response.status_code == 200
    assert "results" in response.json()


def test_a_sub_unit_added_inline_joins_the_tree(admin_client, org):
    data = _unit_form(org.east)
    data |= {
        "children-TOTAL_FORMS": "1",
        "children-0-name": "East-3",
        "children-0-kind": "team",
        "children-0-parent": org.east.pk,
    }
    response = admin_client.post(reverse("admin:targets_orgunit_change", args=[org.east.pk]), data)
    assert response.status_code == 302, response.content[:800]
    assert OrgUnitClosure.objects.filter(ancestor=org.company, descendant__name="East-3").exists()


def test_adding_a_user_in_the_admin_goes_through_the_service(admin_client, org):
    response = admin_client.post(
        reverse("admin:targets_user_add"),
        {
            "username": "newrep",
            "usable_password": "true",
            "password1": "a-Long-enough-pass-42",
            "password2": "a-Long-enough-pass-42",
        },
    )
    assert response.status_code == 302, response.content[:800]
    user = User.objects.get(username="newrep")
    assert user.check_password("a-Long-enough-pass-42")
    assert not user.is_staff
