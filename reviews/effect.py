"""Effect metrics of the adjustment process (issue 6 §6, SPEC §1): the numbers a pilot
reports — proposals per quarter by region and rep (and against the last quarter), the share
approved, how long a decision takes, completion of adjusted targets against their original
and their revised Base, and the regions' volatility this quarter against the last.

A fixed number of set-based queries whatever the company's size: the proposals of both
quarters in one, the subtree's units in one, the figures of the adjusted and of the child
targets through `figures_for` (its own fixed handful).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q

from reviews.models import Proposal, ProposalStatus
from targets.figures import figures_for, volatility
from targets.models import Measure, OrgUnit, OrgUnitClosure, Target
from targets.periods import Quarter

HUNDRED = Decimal(100)
DECIDED = (ProposalStatus.APPROVED, ProposalStatus.REJECTED)
REPS_SHOWN = 10


@dataclass(frozen=True)
class Count:
    id: int | None  # the unit or rep; None for the unit's own targets
    name: str
    proposals: int
    approved: int


@dataclass(frozen=True)
class Effect:
    unit: int
    period: str
    previous_period: str
    proposals: int
    proposals_previous: int
    # proposals / proposals_previous (None without proposals last quarter)
    proposals_ratio: Decimal | None
    decided: int
    approved: int
    approved_share: Decimal | None  # percent of the decided ones
    lead_time_median_hours: Decimal | None  # submitted → decided
    by_region: list[Count]
    by_rep: list[Count]  # most proposals first
    adjusted_targets: int
    completion_original: Decimal | None  # mean completion against the original Base
    completion_adjusted: Decimal | None  # the same against the revised Base
    volatility: Decimal | None  # the children's, this quarter to date (points)
    volatility_previous: Decimal | None


def _mean(values: list[Decimal]) -> Decimal | None:
    return sum(values) / len(values) if values else None


def _unit_of_proposal(row: dict) -> int | None:
    return row["target__owner_unit"] or row["target__owner_user__team"]


def effect_metrics(*, unit: OrgUnit, period: Quarter, as_of: date) -> Effect:
    previous = period.previous()
    subtree = OrgUnitClosure.objects.filter(ancestor=unit).values("descendant")
    in_subtree = Q(target__owner_unit__in=subtree) | Q(target__owner_user__team__in=subtree)
    # A proposal counts once submitted (a draft is not one yet, nor one withdrawn as a draft).
    rows = list(
        Proposal.objects.filter(
            in_subtree,
            target__period__in=[period.label, previous.label],
            target__measure=Measure.REVENUE,
            submitted_at__isnull=False,
        ).values(
            "status",
            "submitted_at",
            "decided_at",
            "author",
            "author__username",
            "author__display_name",
            "target__period",
            "target__owner_unit",
            "target__owner_user__team",
        )
    )
    current = [r for r in rows if r["target__period"] == period.label]
    # Each unit of the subtree → the child of `unit` it lies under (the region).
    region_of: dict[int, int] = dict(
        OrgUnitClosure.objects.filter(ancestor__parent=unit, descendant__in=subtree).values_list(
            "descendant", "ancestor"
        )
    )
    children = list(OrgUnit.objects.filter(parent=unit).order_by("pk"))

    per_region: Counter[int | None] = Counter()
    approved_region: Counter[int | None] = Counter()
    per_rep: Counter[int] = Counter()
    approved_rep: Counter[int] = Counter()
    names: dict[int, str] = {}
    lead_hours: list[Decimal] = []
    for row in current:
        region = region_of.get(_unit_of_proposal(row))
        approved = row["status"] == ProposalStatus.APPROVED
        per_region[region] += 1
        approved_region[region] += approved
        per_rep[row["author"]] += 1
        approved_rep[row["author"]] += approved
        names[row["author"]] = row["author__display_name"] or row["author__username"]
        if row["status"] in DECIDED and row["decided_at"] is not None:
            seconds = (row["decided_at"] - row["submitted_at"]).total_seconds()
            lead_hours.append(Decimal(str(seconds)) / 3600)
    decided = sum(1 for r in current if r["status"] in DECIDED)
    approved = sum(1 for r in current if r["status"] == ProposalStatus.APPROVED)

    by_region = [
        Count(child.pk, child.name, per_region[child.pk], approved_region[child.pk])
        for child in children
    ]
    if per_region[None]:
        by_region.append(Count(None, unit.name, per_region[None], approved_region[None]))
    by_rep = [
        Count(author, names[author], count, approved_rep[author])
        for author, count in sorted(per_rep.items(), key=lambda kv: (-kv[1], names[kv[0]]))
    ]

    # Adjusted targets: those of the quarter with an approved revision.
    adjusted = list(
        Target.objects.filter(
            Q(owner_unit__in=subtree) | Q(owner_user__team__in=subtree),
            period=period.label,
            measure=Measure.REVENUE,
            revisions__isnull=False,
        ).distinct()
    )
    # The children's targets of both quarters, for their volatility.
    child_targets = list(
        Target.objects.filter(
            Q(owner_unit__parent=unit) | Q(owner_user__team=unit),
            period__in=[period.label, previous.label],
            measure=Measure.REVENUE,
        )
    )
    figures = figures_for(adjusted + child_targets, as_of=as_of)
    before, after = [], []
    for target in adjusted:
        actual = figures[target.pk].actual
        if target.original_base > 0:
            before.append(actual / target.original_base * HUNDRED)
        if figures[target.pk].completion is not None:
            after.append(figures[target.pk].completion)

    def spread(quarter: Quarter) -> Decimal | None:
        months = [m for m in quarter.months if m.start <= as_of]
        of_quarter = [figures[t.pk] for t in child_targets if t.period == quarter.label]
        return volatility(of_quarter, months)

    proposals_previous = len(rows) - len(current)
    return Effect(
        unit=unit.pk,
        period=period.label,
        previous_period=previous.label,
        proposals=len(current),
        proposals_previous=proposals_previous,
        proposals_ratio=Decimal(len(current)) / proposals_previous if proposals_previous else None,
        decided=decided,
        approved=approved,
        approved_share=Decimal(approved) / decided * HUNDRED if decided else None,
        lead_time_median_hours=statistics.median(lead_hours) if lead_hours else None,
        by_region=by_region,
        by_rep=by_rep,
        adjusted_targets=len(adjusted),
        completion_original=_mean(before),
        completion_adjusted=_mean(after),
        volatility=spread(period),
        volatility_previous=spread(previous),
    )
