"""Proposal pages: my proposals, the reviewers' queue, a new proposal with its what-if."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from reviews.models import Proposal, ProposalStatus
from targets import services as target_services
from tests.factories import DealFactory
from tests.reviews.helpers import proposal_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _may_2025():
    with time_machine.travel(date(2025, 5, 20), tick=False):
        yield


@pytest.fixture
def targets(org):
    east1 = target_services.target_create(
        period="2025Q2", owner_unit=org.east1, base=Decimal(2000), stretch=Decimal(3000)
    )
    alice = target_services.target_create(
        period="2025Q2",
        owner_user=org.alice,
        base=Decimal(1000),
        stretch=Decimal(1500),
        base_bonus=Decimal(100),
    )
    bob = target_services.target_create(
        period="2025Q2", owner_user=org.bob, base=Decimal(1000), stretch=Decimal(1500)
    )
    DealFactory(owner=org.alice, amount=Decimal(400), close_date=date(2025, 5, 2))
    return {"east1": east1, "alice": alice, "bob": bob}


def signed_in(client, user):
    client.force_login(user)
    return client


def test_a_rep_opens_a_new_proposal_for_their_target_with_its_what_if(client, org, targets):
    html = (
        signed_in(client, org.alice)
        .get(f"/proposals/new/?target={targets['alice'].pk}")
        .content.decode()
    )
    assert 'data-testid="what-if"' in html
    # 400 of 1,000 is 40 % now.
    assert "40.0%" in html


def test_the_preview_shows_completion_and_the_parents_coverage_with_the_new_amounts(
    client, org, targets
):
    response = signed_in(client, org.alice).get(
        "/proposals/new/preview/",
        {
            "target": targets["alice"].pk,
            "proposed_base": "800",
            "proposed_stretch": "1200",
            "reason": "competitor_price",
        },
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "50.0%" in html  # 400 / 800
    # East-1's children: 1,000 + 1,000 of 2,000 → 1,800 of 2,000 = 90 %.
    assert "100.0%" in html and "90.0%" in html
    assert not Proposal.objects.exists()


def test_submitting_the_form_creates_a_submitted_proposal(client, org, targets):
    response = signed_in(client, org.alice).post(
        "/proposals/new/",
        {
            "target": targets["alice"].pk,
            "proposed_base": "80万",
            "proposed_stretch": "120万",
            "reason": "purchase_cycle",
            "explanation": "客户采购周期延长",
            "submit": "1",
        },
    )
    proposal = Proposal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/proposals/{proposal.pk}/"
    assert proposal.status == ProposalStatus.SUBMITTED
    assert proposal.proposed_base == Decimal(800000)


def test_a_bad_form_shows_field_errors_and_writes_nothing(client, org, targets):
    response = signed_in(client, org.alice).post(
        "/proposals/new/",
        {
            "target": targets["alice"].pk,
            "proposed_base": "900",
            "proposed_stretch": "100",
            "reason": "other",
        },
    )
    assert response.status_code == 200
    assert "proposed_stretch" in response.context["form"].errors
    assert not Proposal.objects.exists()


def test_someone_elses_target_is_not_offered(client, org, targets):
    response = signed_in(client, org.alice).post(
        "/proposals/new/",
        {
            "target": targets["bob"].pk,
            "proposed_base": "1",
            "proposed_stretch": "2",
            "reason": "other",
        },
    )
    assert "target" in response.context["form"].errors
    assert not Proposal.objects.exists()


def test_a_user_with_nothing_to_adjust_is_told_so(client, org, targets):
    assert signed_in(client, org.finance).get("/proposals/new/").status_code == 403


def test_the_hrbp_sees_the_queue_and_approves(client, org, targets):
    proposal = proposal_for(targets["alice"])
    html = signed_in(client, org.hrbp).get("/proposals/?tab=queue").content.decode()
    assert f"/proposals/{proposal.pk}/" in html
    assert 'data-testid="decide"' in client.get(f"/proposals/{proposal.pk}/").content.decode()
    response = client.post(f"/proposals/{proposal.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPROVED
    targets["alice"].refresh_from_db()
    assert targets["alice"].base == Decimal(800)
    # A second decision is explained, not a 500, and changes nothing.
    response = client.post(
        f"/proposals/{proposal.pk}/decide/", {"decision": "reject", "note": "x"}, follow=True
    )
    assert response.status_code == 200
    assert "已被审批或撤回" in response.content.decode()


def test_the_author_does_not_get_decision_buttons_and_may_withdraw(client, org, targets):
    proposal = proposal_for(targets["alice"])
    html = signed_in(client, org.alice).get(f"/proposals/{proposal.pk}/").content.decode()
    assert 'data-testid="decide"' not in html
    assert (
        client.post(f"/proposals/{proposal.pk}/decide/", {"decision": "approve"}).status_code == 403
    )
    client.post(f"/proposals/{proposal.pk}/withdraw/")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.WITHDRAWN


def test_outsiders_get_404_and_wrong_methods_405(client, org, targets):
    proposal = proposal_for(targets["alice"])
    signed_in(client, org.dave)
    assert client.get(f"/proposals/{proposal.pk}/").status_code == 404
    assert (
        client.post(f"/proposals/{proposal.pk}/decide/", {"decision": "approve"}).status_code == 404
    )
    assert client.get(f"/proposals/{proposal.pk}/decide/").status_code == 405


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_pages_render_in_both_languages(client, org, targets, language):
    proposal_for(targets["alice"])
    signed_in(client, org.alice)
    html = client.get("/proposals/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert ("调整建议" if language == "zh-hans" else "Adjustment proposals") in html
    assert ("竞争对手降价" if language == "zh-hans" else "Competitor price cut") in html


def test_the_list_costs_a_fixed_number_of_queries(
    client, org, targets, django_assert_max_num_queries
):
    for _ in range(8):
        proposal_for(targets["alice"], submit=False, reason="other")
    signed_in(client, org.alice)
    with django_assert_max_num_queries(12):
        assert client.get("/proposals/").status_code == 200


def test_the_target_page_offers_a_proposal_to_its_owner_only(client, org, targets):
    url = f"/targets/{targets['alice'].pk}/"
    html = signed_in(client, org.alice).get(url).content.decode()
    assert f"/proposals/new/?target={targets['alice'].pk}" in html
    html = signed_in(client, org.mgr_east).get(url).content.decode()
    assert 'data-testid="propose"' not in html
    html = client.get(f"/targets/{targets['east1'].pk}/").content.decode()
    assert f"/proposals/new/?target={targets['east1'].pk}" in html


def test_the_proposal_page_buttons_post_to_the_pages_not_the_api(client, org, targets):
    draft = proposal_for(targets["alice"], submit=False)
    html = signed_in(client, org.alice).get(f"/proposals/{draft.pk}/").content.decode()
    assert f'action="/proposals/{draft.pk}/submit/"' in html
    assert f'action="/proposals/{draft.pk}/withdraw/"' in html
    response = client.post(f"/proposals/{draft.pk}/submit/")
    assert response.status_code == 302
    html = signed_in(client, org.hrbp).get(f"/proposals/{draft.pk}/").content.decode()
    assert f'action="/proposals/{draft.pk}/decide/"' in html
    assert "/api/v1/" not in html.split("<main", 1)[1]


def test_the_queue_narrows_by_unit_quarter_and_reason(client, org, targets):
    carol = target_services.target_create(
        period="2025Q2", owner_user=org.carol, base=Decimal(1000), stretch=Decimal(1500)
    )
    proposal_for(targets["alice"], reason="competitor_price")
    proposal_for(carol, reason="policy")
    hrbp = signed_in(client, org.hrbp)

    def rows(query: str) -> int:
        response = hrbp.get(f"/proposals/?tab=queue&{query}")
        assert response.status_code == 200
        return response.content.decode().count('data-testid="proposal-row"')

    assert rows("") == 2
    assert rows(f"unit={org.east2.pk}") == 1
    assert rows(f"unit={org.east.pk}") == 2
    assert rows("reason=policy") == 1
    assert rows("period=2025Q2&reason=capacity") == 0
    assert 'class="empty"' in hrbp.get("/proposals/?tab=queue&reason=capacity").content.decode()
    assert hrbp.get("/proposals/?tab=queue&reason=nonsense").status_code == 400
    assert hrbp.get("/proposals/?tab=queue&period=2025-13").status_code == 400
    assert hrbp.get("/proposals/?tab=queue&unit=x").status_code == 400


def test_a_unit_outside_the_users_view_is_a_404(client, org, targets):
    response = signed_in(client, org.mgr_east).get(f"/proposals/?tab=all&unit={org.north.pk}")
    assert response.status_code == 404


def test_choosing_a_target_shows_where_it_stands_before_any_amount_is_typed(client, org, targets):
    html = (
        signed_in(client, org.alice)
        .get("/proposals/new/preview/", {"target": targets["alice"].pk})
        .content.decode()
    )
    assert 'data-testid="what-if"' in html
    assert "40.0%" in html
