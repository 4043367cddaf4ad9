"""The demo company's review meetings (SPEC §11): last month's East review, scored,
decided and closed with its minutes, and this month's, open, with the deferred item
carried over — made through the same services people use."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from reviews import meetings
from reviews.meeting_models import ItemDecision, ReviewMeeting
from reviews.meetings import previous_month
from targets.demo import COMPANY_NAME
from targets.models import OrgUnit, User
from targets.periods import Month

# Scores (market, customer, capacity) and notes per member, and the chair's decision, for
# last month's first items in agenda order.
SCRIPT = (
    (
        {
            "mgr_east": (2, 3, 3, "重点客户预算冻结，需要两个月恢复。"),
            "finance": (3, 3, 4, "回款正常。"),
        },
        ItemDecision.DEFER,
        "下月结合客户预算情况再议。",
    ),
    (
        {"mgr_east": (4, 4, 3, "新签渠道带来商机。"), "finance": (4, 3, 3, "")},
        ItemDecision.KEEP,
        "进度落后属短期波动，维持目标，区域加强支援。",
    ),
    (
        {"mgr_east": (3, 2, 2, "人员交接中。"), "finance": (3, 3, 3, "")},
        ItemDecision.KEEP,
        "维持原目标。",
    ),
)


@transaction.atomic
def demo_meetings_seed(*, today: date) -> int:
    """Idempotent: a month that already has its East review is left as it is."""
    east = OrgUnit.objects.filter(
        name="华东 East", parent__name=COMPANY_NAME, parent__parent__isnull=True
    ).first()
    people = {
        u.username: u for u in User.objects.filter(username__in=["hrbp", "mgr_east", "finance"])
    }
    if east is None or len(people) < 3:
        return 0
    members = [people["mgr_east"], people["finance"]]
    this_month = Month.of(today)
    last_month = previous_month(this_month)
    created = 0
    if not ReviewMeeting.objects.filter(unit=east, month=last_month.label).exists():
        meeting = meetings.meeting_create(
            chair=people["hrbp"], unit=east, month=last_month.label, members=members, today=today
        )
        items = list(meeting.items.order_by("position"))
        for item, (scores, decision, note) in zip(items, SCRIPT, strict=False):
            for username, (market, customer, capacity, notes) in scores.items():
                meetings.item_score(
                    item=item,
                    by=people[username],
                    market=market,
                    customer=customer,
                    capacity=capacity,
                    notes=notes,
                )
            if item.proposal_id and decision == ItemDecision.KEEP:
                decision = ItemDecision.DEFER  # the demo's proposals keep their own states
            meetings.item_decide(item=item, by=people["hrbp"], decision=decision, notes=note)
        meetings.meeting_close(meeting=meeting, by=people["hrbp"], today=today)
        created += 1
    if not ReviewMeeting.objects.filter(unit=east, month=this_month.label).exists():
        meetings.meeting_create(
            chair=people["hrbp"], unit=east, month=this_month.label, members=members, today=today
        )
        created += 1
    return created
