"""Members hear of a review in their inbox, in their own language: when invited, and when
it closes (with the minutes a click away)."""

from __future__ import annotations

from datetime import date

import pytest

from alerts.models import Notification, NotificationKind
from reviews import meetings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_may_2025")]
TODAY = date(2025, 5, 20)


@pytest.fixture
def review(org):
    org.finance.language = "en"
    org.finance.save(update_fields=["language"])
    org.mgr_east.language = "zh-hans"
    org.mgr_east.save(update_fields=["language"])
    return meetings.meeting_create(
        chair=org.hrbp, unit=org.east, month="2025-05", members=[org.finance], today=TODAY
    )


def notices(kind):
    return Notification.objects.filter(kind=kind).order_by("recipient__username")


def test_members_are_invited_in_their_language_and_only_once(org, review):
    invited = notices(NotificationKind.REVIEW_INVITED)
    assert [(n.recipient, n.subject_id, n.actor) for n in invited] == [
        (org.finance, review.pk, org.hrbp)
    ]
    assert "added you to the target-health review of 华东 East for 2025-05" in invited[0].note

    meetings.meeting_update(meeting=review, by=org.hrbp, members=[org.finance, org.mgr_east])

    invited = notices(NotificationKind.REVIEW_INVITED)
    assert [n.recipient for n in invited] == [org.finance, org.mgr_east]
    assert "目标健康度评审会" in invited[1].note or "评审会" in invited[1].note


def test_closing_tells_the_members_with_the_minutes_in_the_inbox(client, org, review):
    meetings.meeting_close(meeting=review, by=org.hrbp, today=TODAY)
    closed = notices(NotificationKind.REVIEW_CLOSED)
    assert [(n.recipient, n.subject_id) for n in closed] == [(org.finance, review.pk)]
    assert "minutes are final" in closed[0].note

    client.force_login(org.finance)
    html = client.get("/inbox/").content.decode()
    assert f'href="/reviews/{review.pk}/"' in html
    assert f"/reviews/{review.pk}/minutes/pdf/" in html
    assert client.get(f"/reviews/{review.pk}/minutes/pdf/").status_code == 200


def test_a_proposal_notice_leads_to_the_proposal(client, org):
    from decimal import Decimal

    from reviews import services
    from targets import services as target_services

    target = target_services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(1000), stretch=Decimal(1500)
    )
    proposal = services.proposal_create(
        author=org.alice,
        target=target,
        proposed_base=Decimal(800),
        proposed_stretch=Decimal(1200),
        reason="policy",
        submit=True,
    )
    services.proposal_decide(proposal=proposal, by=org.hrbp, decision="approve", note="")
    client.force_login(org.alice)
    assert f'href="/proposals/{proposal.pk}/"' in client.get("/inbox/").content.decode()
