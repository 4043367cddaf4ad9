"""The Django admin lists reviews, cases, proposals and flags read-only; admin decides nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from reviews import meetings
from targets import services as target_services
from tests.reviews.helpers import proposal_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_may_2025")]


@pytest.fixture
def admin_user(org):
    org.admin.is_staff = True
    org.admin.is_superuser = True
    org.admin.save()
    return org.admin


def test_admin_reads_reviews_cases_proposals_and_flags_but_changes_nothing(client, org, admin_user):
    target = target_services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(1000), stretch=Decimal(1500)
    )
    proposal = proposal_for(target)
    meeting = meetings.meeting_create(
        chair=org.hrbp,
        unit=org.east,
        month="2025-05",
        members=[org.finance],
        today=date(2025, 5, 20),
    )
    client.force_login(admin_user)
    for url in [
        "/admin/reviews/reviewmeeting/",
        f"/admin/reviews/reviewmeeting/{meeting.pk}/change/",
        "/admin/reviews/adjustmentcase/",
        "/admin/reviews/actualdispute/",
        "/admin/reviews/proposal/",
    ]:
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/reviews/reviewmeeting/add/").status_code == 403
    # Admin is no sales authority: no decision on a proposal, in the page or the review.
    assert client.post(
        f"/proposals/{proposal.pk}/decide/", {"decision": "approve"}
    ).status_code in (
        403,
        404,
    )
    assert client.get(f"/reviews/{meeting.pk}/").status_code == 404
