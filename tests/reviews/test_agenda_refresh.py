"""Refreshing an open review's agenda: what no longer applies leaves it unless someone
already scored or decided it; open flags join it (issue 6 §4, §5)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from reviews import meetings, services
from reviews.deviations import cases_close
from reviews.disputes import services as dispute_services
from reviews.models import AdjustmentCase, DisputeState
from targets import services as target_services
from tests.factories import DealFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_may_2025")]
TODAY = date(2025, 5, 20)


@pytest.fixture
def targets(org):
    made = {
        name: target_services.target_create(
            period="2025Q2", owner_user=user, base=Decimal(1_000_000), stretch=Decimal(1_500_000)
        )
        for name, user in [("alice", org.alice), ("bob", org.bob), ("carol", org.carol)]
    }
    DealFactory(owner=org.bob, amount=Decimal(900_000))
    return made


def open_review(org):
    return meetings.meeting_create(
        chair=org.hrbp, unit=org.east, month="2025-05", members=[org.finance], today=TODAY
    )


def kinds(meeting) -> list[tuple]:
    return list(meeting.items.order_by("position").values_list("kind", "target__owner_user"))


def refresh(org, meeting):
    return meetings.agenda_refresh(meeting=meeting, by=org.hrbp, today=TODAY)


def test_a_withdrawn_proposal_a_closed_case_and_a_target_back_on_track_leave_the_agenda(
    org, targets
):
    proposal = services.proposal_create(
        author=org.bob,
        target=targets["bob"],
        proposed_base=Decimal(900_000),
        proposed_stretch=Decimal(1_200_000),
        reason="competitor_price",
        submit=True,
    )
    case = AdjustmentCase.objects.create(
        target=targets["bob"],
        indicator="revenue_pace",
        opened_at="2025-05-19T06:00Z",
        opened_week="2025-W21",
    )
    meeting = open_review(org)
    assert {k for k, _ in kinds(meeting)} == {"red_target", "case", "proposal"}
    services.proposal_withdraw(proposal=proposal, by=org.bob)
    cases_close(case_ids=[case.pk])
    DealFactory(owner=org.alice, amount=Decimal(900_000))  # Alice is back on pace

    change = refresh(org, meeting)

    assert (change.added, change.dropped) == (0, 3)
    assert kinds(meeting) == [("red_target", org.carol.pk)]
    assert list(meeting.items.values_list("position", flat=True)) == [1]


def test_what_was_scored_or_decided_stays_and_the_rest_is_numbered_again(org, targets):
    meeting = open_review(org)
    alice = meeting.items.get(target=targets["alice"])
    carol = meeting.items.get(target=targets["carol"])
    meetings.item_score(item=alice, by=org.finance, market=3)
    meetings.item_decide(item=carol, by=org.hrbp, decision="defer")
    DealFactory(owner=org.alice, amount=Decimal(900_000))
    DealFactory(owner=org.carol, amount=Decimal(900_000))

    change = refresh(org, meeting)

    assert change.dropped == 0
    assert meeting.items.count() == 2


def test_an_open_flag_joins_the_agenda_on_its_authors_target_and_leaves_once_resolved(org, targets):
    deal = DealFactory(owner=org.alice, amount=Decimal(50_000), close_date=date(2025, 5, 6))
    dispute = dispute_services.dispute_create(
        author=org.alice, kind="wrong_amount", comment="45万 per the contract", deal=deal
    )
    meeting = open_review(org)
    item = meeting.items.get(kind="dispute")
    assert (item.target_id, item.dispute_id) == (targets["alice"].pk, dispute.pk)
    assert refresh(org, meeting).added == 0  # not twice

    dispute_services.dispute_resolve(
        dispute=dispute, by=org.mgr_east, resolution=DisputeState.REJECTED, note="Amount is right"
    )
    assert refresh(org, meeting).dropped == 1
    assert not meeting.items.filter(kind="dispute").exists()


def test_the_page_says_what_the_refresh_did(client, org, targets):
    meeting = open_review(org)
    DealFactory(owner=org.alice, amount=Decimal(900_000))
    client.force_login(org.hrbp)
    response = client.post(f"/reviews/{meeting.pk}/refresh/", follow=True)
    assert "1" in response.content.decode()
    assert meeting.items.count() == 1


def test_a_red_target_with_a_proposal_on_the_agenda_is_not_there_twice(org, targets):
    services.proposal_create(
        author=org.alice,
        target=targets["alice"],
        proposed_base=Decimal(500_000),
        proposed_stretch=Decimal(800_000),
        reason="policy",
        submit=True,
    )
    meeting = open_review(org)
    assert kinds(meeting) == [("proposal", org.alice.pk), ("red_target", org.carol.pk)]


def test_a_target_adjusted_here_through_its_proposal_does_not_come_back_as_red(org, targets):
    services.proposal_create(
        author=org.alice,
        target=targets["alice"],
        proposed_base=Decimal(900_000),
        proposed_stretch=Decimal(1_400_000),
        reason="policy",
        submit=True,
    )
    meeting = open_review(org)
    item = meeting.items.get(kind="proposal")
    meetings.item_decide(item=item, by=org.hrbp, decision="adjust")  # still red after it

    change = refresh(org, meeting)

    assert change.added == 0
    assert kinds(meeting) == [("proposal", org.alice.pk), ("red_target", org.carol.pk)]
