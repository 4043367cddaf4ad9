"""The demo company's reviews content (SPEC §11): proposals in every state and an open
adjustment case in the current quarter, made through the same services users go through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from reviews import services
from reviews.deviations import case_open
from reviews.disputes.demo import demo_disputes_seed
from reviews.models import AdjustmentCase, Proposal, ProposalReason
from targets.demo import COMPANY_NAME
from targets.figures import figures_for
from targets.models import OrgUnit, Target, User
from targets.periods import IsoWeek, Quarter

# (rep, reason, Base factor, explanation, what happens to it)
PLAN = (
    (
        "rep003",
        ProposalReason.COMPETITOR_PRICE,
        "0.85",
        "主要竞品本季度报价下调约 20%，两个重点项目被迫降价。",
        "approve",
    ),
    (
        "rep011",
        ProposalReason.PURCHASE_CYCLE,
        "0.90",
        "两家大客户采购审批从 4 周延长到 8 周，预计顺延到下季度。",
        "submitted",
    ),
    ("rep017", ProposalReason.CAPACITY, "0.80", "团队一名资深销售离职，客户交接中。", "reject"),
    (
        "rep025",
        ProposalReason.POLICY,
        "0.90",
        "行业新规要求补充资质审查，签约时间推迟。",
        "withdraw",
    ),
    ("rep033", ProposalReason.OTHER, "1.10", "新签渠道伙伴带来额外商机，建议上调目标。", "draft"),
)


@dataclass(frozen=True)
class ReviewsDemo:
    proposals: int
    created: int
    open_cases: int


@transaction.atomic
def demo_reviews_seed(*, today: date) -> ReviewsDemo:
    """Idempotent: a rep who already has a proposal this quarter is left as it is."""
    company = OrgUnit.objects.filter(name=COMPANY_NAME, parent__isnull=True).first()
    if company is None:
        return ReviewsDemo(0, 0, 0)
    period = Quarter.of(today).label
    people = {u.username: u for u in User.objects.filter(username__in=["hrbp", "director"])}
    targets = {
        t.owner_user.username: t
        for t in Target.objects.filter(
            company=company, period=period, owner_user__username__in=[p[0] for p in PLAN]
        ).select_related("owner_user")
    }
    created = 0
    for username, reason, factor, explanation, outcome in PLAN:
        target = targets.get(username)
        if target is None or Proposal.objects.filter(target=target).exists():
            continue
        base = (target.base * Decimal(factor)).quantize(Decimal("1"))
        proposal = services.proposal_create(
            author=target.owner_user,
            target=target,
            proposed_base=base,
            proposed_stretch=(base * Decimal("1.5")).quantize(Decimal("1")),
            reason=reason,
            explanation=explanation,
            submit=outcome != "draft",
        )
        if outcome == "approve":
            services.proposal_decide(
                proposal=proposal,
                by=people["hrbp"],
                decision="approve",
                note="市场数据核实无误，同意下调。",
            )
        elif outcome == "reject":
            services.proposal_decide(
                proposal=proposal,
                by=people["director"],
                decision="reject",
                note="已安排区域支援，暂维持原目标，下月评审会复议。",
            )
        elif outcome == "withdraw":
            services.proposal_withdraw(proposal=proposal, by=target.owner_user)
        created += 1
    _ensure_open_case(company, period, today)
    demo_disputes_seed(company=company, today=today)
    return ReviewsDemo(
        proposals=Proposal.objects.filter(target__company=company).count(),
        created=created,
        open_cases=AdjustmentCase.objects.filter(target__company=company, state="open").count(),
    )


def _ensure_open_case(company: OrgUnit, period: str, today: date) -> None:
    """One open case on the rep furthest behind plan, with the two weeks that opened it."""
    if AdjustmentCase.objects.filter(target__company=company, state="open").exists():
        return
    reps = list(Target.objects.filter(company=company, period=period, owner_user__isnull=False))
    last = IsoWeek.of(today).previous()
    weeks = [last.previous(), last]
    by_week = {w.label: figures_for(reps, as_of=min(w.end, today)) for w in weeks}
    candidates = [t for t in reps if all(by_week[w.label][t.pk].expected_base for w in weeks)]
    if not candidates:
        return

    def deviation(target: Target, week: IsoWeek) -> Decimal:
        figures = by_week[week.label][target.pk]
        return (figures.actual - figures.expected_base) / figures.expected_base * 100

    target = min(candidates, key=lambda t: deviation(t, last))
    if deviation(target, last) >= -15 or deviation(target, weeks[0]) >= -15:
        return
    case_open(
        target=target,
        indicator="revenue_pace",
        week=last.label,
        weeks=[
            {
                "week": w.label,
                "plan": str(by_week[w.label][target.pk].expected_base.quantize(Decimal("0.01"))),
                "actual": str(by_week[w.label][target.pk].actual),
                "deviation": str(deviation(target, w).quantize(Decimal("0.01"))),
            }
            for w in weeks
        ],
    )
