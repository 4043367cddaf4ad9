"""The demo company's flagged actuals: one open flag on a deal, one missing deal resolved."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from reviews.disputes import services
from reviews.disputes.access import own_deals, resolvers_of
from reviews.models import ActualDispute
from targets.models import OrgUnit, OrgUnitClosure, User
from targets.periods import Quarter


def demo_disputes_seed(*, company: OrgUnit, today: date) -> int:
    """Idempotent: nothing is added once the company has a flag. Returns the flags made."""
    subtree = OrgUnitClosure.objects.filter(ancestor=company).values("descendant")
    if ActualDispute.objects.filter(team__in=subtree).exists():
        return 0
    rep = User.objects.filter(username="rep002", team__in=subtree).first()
    if rep is None:
        return 0
    start = Quarter.of(today).start
    deal = (
        own_deals(rep)
        .filter(won=True, close_date__gte=start, close_date__lte=today)
        .order_by("-close_date", "-pk")
        .first()
    )
    made = 0
    if deal is not None:
        services.dispute_create(
            author=rep,
            kind="wrong_amount",
            deal=deal,
            comment="合同补充协议后金额应增加 8 万，CRM 里还是旧金额。",
            today=today,
        )
        made += 1
    missing = services.dispute_create(
        author=rep,
        kind="missing_deal",
        account="苏州恒信精密",
        amount=Decimal(120000),
        close_date=max(start, today.replace(day=1)),
        comment="合同已签回，但 ERP 里没有这笔订单。",
        today=today,
    )
    resolver = resolvers_of(missing).first()
    if resolver is not None:
        services.dispute_resolve(
            dispute=missing,
            by=resolver,
            resolution="rejected",
            note="订单属于下季度交付，按合同约定 7 月确认收入。",
        )
    return made + 1
