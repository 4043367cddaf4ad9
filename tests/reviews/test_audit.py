"""Audit (issue 6 §7): every human change keeps who / when / before / after, and the target
page shows it as one timeline."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reviews import services
from reviews.timeline import proposal_events
from targets import services as target_services
from targets.models import Deal, Target
from targets.selectors.timeline import target_timeline

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _may_2025():
    with time_machine.travel(date(2025, 5, 20), tick=True):
        yield


def alice_target(org) -> Target:
    return target_services.target_create(
        period="2025Q2",
        owner_user=org.alice,
        base=Decimal(1000),
        stretch=Decimal(1500),
        created_by=org.director,
    )


def approved(org, target, base="800"):
    proposal = services.proposal_create(
        author=org.alice,
        target=target,
        proposed_base=Decimal(base),
        proposed_stretch=Decimal(1200),
        reason="competitor_price",
        explanation="竞品降价",
        submit=True,
    )
    return services.proposal_decide(proposal=proposal, by=org.hrbp, decision="approve")


def test_a_revision_records_who_decided_and_the_amounts_before_and_after(org):
    target = alice_target(org)
    approved(org, target)
    rows = list(target.history.order_by("history_date", "history_id"))
    assert [r.history_type for r in rows] == ["+", "~"]
    assert rows[0].history_user == org.director
    assert (rows[1].history_user, rows[1].base, rows[1].version) == (org.hrbp, 800, 2)
    assert (rows[1].prev_record.base, rows[1].original_base) == (1000, 1000)
    revision = target.revisions.get()
    assert revision.history.get().history_user == org.hrbp


def test_every_proposal_transition_is_kept_with_its_actor(org):
    target = alice_target(org)
    proposal = approved(org, target)
    rows = list(proposal.history.order_by("history_date", "history_id"))
    assert [(r.status, r.history_user) for r in rows] == [
        ("draft", org.alice),
        ("submitted", org.alice),
        ("approved", org.hrbp),
    ]


def test_a_deal_confirmation_is_kept_with_who_confirmed(org, in_may_2025):
    deal = target_services.deal_create_manual(
        author=org.alice,
        account="华为",
        owner=org.alice,
        amount=Decimal(500),
        close_date=date(2025, 5, 2),
    )
    target_services.deal_confirm(deal=deal, confirmed_by=org.mgr_east)
    rows = list(Deal.history.filter(id=deal.pk).order_by("history_date", "history_id"))
    assert [(r.history_type, r.history_user, r.confirmed_by_id) for r in rows] == [
        ("+", org.alice, None),
        ("~", org.mgr_east, org.mgr_east.pk),
    ]


def test_a_change_through_a_page_records_the_requests_user(client, org):
    target = target_services.target_create(
        period="2025Q4", owner_user=org.alice, base=Decimal(1000), stretch=Decimal(1500)
    )
    client.force_login(org.director)
    response = client.post(
        f"/api/v1/targets/{target.pk}/",
        data='{"base": "1200", "stretch": "1600", "version": 1}',
        content_type="application/json",
        REQUEST_METHOD="PATCH",
    )
    assert response.status_code == 200, response.content
    latest = target.history.latest()
    assert (latest.history_user, latest.base, latest.original_base) == (org.director, 1200, 1200)


def test_the_timeline_tells_the_whole_story_newest_first(org, in_may_2025):
    target = alice_target(org)
    deal = target_services.deal_create_manual(
        author=org.alice,
        account="华为",
        owner=org.alice,
        amount=Decimal(500),
        close_date=date(2025, 5, 2),
    )
    target_services.deal_confirm(deal=deal, confirmed_by=org.mgr_east)
    approved(org, target)
    events = target_timeline(user=org.alice, target=target) + proposal_events(
        user=org.alice, target=target
    )
    kinds = {e.kind for e in events}
    assert kinds == {
        "created",
        "revision",
        "deal_confirmed",
        "proposal_submitted",
        "proposal_approved",
    }
    revision = next(e for e in events if e.kind == "revision")
    assert (revision.who, revision.base_before, revision.base) == (str(org.hrbp), 1000, 800)


def test_amounts_set_again_before_the_quarter_show_as_a_change(org):
    target = target_services.target_create(
        period="2025Q4", owner_user=org.alice, base=Decimal(1000), stretch=Decimal(1500)
    )
    target_services.target_update(
        target=target, base=Decimal(1100), stretch=Decimal(1500), by=org.director
    )
    events = target_timeline(user=org.director, target=target)
    change = next(e for e in events if e.kind == "amounts")
    assert (change.who, change.base_before, change.base) == (str(org.director), 1000, 1100)


def test_a_colleague_sees_no_draft_of_anothers_proposal(org):
    target = alice_target(org)
    services.proposal_create(
        author=org.alice,
        target=target,
        proposed_base=Decimal(900),
        proposed_stretch=Decimal(1200),
        reason="other",
    )
    assert proposal_events(user=org.director, target=target) == []


def _timeline_queries(client, target) -> int:
    with CaptureQueriesContext(connection) as queries:
        html = client.get(f"/targets/{target.pk}/").content.decode()
    assert 'data-testid="timeline"' in html
    return len(queries)


def test_the_timeline_costs_the_same_queries_however_long_it_is(client, org, in_may_2025):
    target = alice_target(org)
    client.force_login(org.director)
    short = _timeline_queries(client, target)
    for base in ("900", "850", "800"):
        approved(org, target, base=base)
    for i in range(3):
        deal = target_services.deal_create_manual(
            author=org.alice,
            account=f"客户{i}",
            owner=org.alice,
            amount=Decimal(10),
            close_date=date(2025, 5, 2),
        )
        target_services.deal_confirm(deal=deal, confirmed_by=org.mgr_east)
    assert _timeline_queries(client, target) == short


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_timeline_reads_in_both_languages(client, org, language):
    target = alice_target(org)
    approved(org, target)
    client.force_login(org.alice)
    html = client.get(f"/targets/{target.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    expected = (
        ("历史记录", "已调整", "目标调整建议已批准")
        if language == "zh-hans"
        else (
            "History",
            "Revised",
            "Adjustment proposal approved",
        )
    )
    for text in expected:
        assert text in html
