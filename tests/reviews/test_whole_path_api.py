"""The whole path of an adjustment through API v1 (issue 6 §8): the rep previews and
proposes, submits; the HRBP's review has it on the agenda; the members score; the HRBP
adjusts; the target carries the revision; the rep is notified."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alerts.models import Notification, NotificationKind
from targets import services as target_services
from tests.factories import DealFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_may_2025")]


def test_a_proposal_goes_from_the_rep_through_the_review_to_a_revised_target(api, client, org):
    target = target_services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(1_000_000), stretch=Decimal(1_500_000)
    )
    DealFactory(owner=org.alice, amount=Decimal(400_000))

    # The what-if of the amounts before proposing: 400k of 800k is 50 %.
    client.force_login(org.alice)
    preview = client.get(
        "/proposals/new/preview/",
        {"target": target.pk, "proposed_base": "80万", "proposed_stretch": "120万"},
    )
    assert 'data-testid="proposed-completion"' in preview.content.decode()
    assert "50.0%" in preview.content.decode()

    alice = api(org.alice)
    created = alice.post(
        "/api/v1/proposals/",
        {
            "target": target.pk,
            "proposed_base": "800000",
            "proposed_stretch": "1200000",
            "reason": "policy",
            "explanation": "新规收紧",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    proposal_id = created.json()["id"]
    assert alice.post(f"/api/v1/proposals/{proposal_id}/submit/").status_code == 200

    hrbp = api(org.hrbp)
    review = hrbp.post(
        "/api/v1/reviews/",
        {"unit": org.east.pk, "month": "2025-05", "members": [org.finance.pk, org.mgr_east.pk]},
        format="json",
    )
    assert review.status_code == 201, review.json()
    review_id = review.json()["id"]
    [item] = [i for i in review.json()["agenda"] if i["proposal"] == proposal_id]
    assert item["kind"] == "proposal"
    items = f"/api/v1/reviews/{review_id}/items/{item['id']}/"

    for member, marks in [(org.finance, (2, 3, 4)), (org.mgr_east, (3, 3, 5))]:
        scored = api(member).patch(
            items,
            {
                "scores": dict(zip(("market", "customer", "capacity"), marks, strict=True)),
                "notes": "ok",
            },
            format="json",
        )
        assert scored.status_code == 200, scored.json()
    assert scored.json()["scores"] == {"market": "2.5", "customer": "3.0", "capacity": "4.5"}

    decided = hrbp.patch(
        items, {"decision": "adjust", "decision_note": "按建议调整"}, format="json"
    )
    assert decided.status_code == 200, decided.json()
    assert decided.json()["revision"] is not None

    assert alice.get(f"/api/v1/proposals/{proposal_id}/").json()["status"] == "approved"
    revised = alice.get(f"/api/v1/targets/{target.pk}/").json()
    assert Decimal(revised["base"]) == Decimal(800_000)
    assert Notification.objects.filter(
        recipient=org.alice, kind=NotificationKind.PROPOSAL_APPROVED, subject_id=proposal_id
    ).exists()
    # A second decision on the same item or proposal is a conflict, not a second revision.
    assert hrbp.patch(items, {"decision": "keep"}, format="json").status_code == 409
    again = hrbp.post(
        f"/api/v1/proposals/{proposal_id}/decide/", {"decision": "reject", "note": "x"}
    )
    assert again.status_code == 409
