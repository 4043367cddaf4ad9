"""Reads shaped for the HTML pages (views.py): everything a template shows comes ready here.

The numbers themselves come from `targets.selectors` / `targets.figures`; these modules only
add what a page needs around them (breadcrumbs, period choices, links, chart fragments,
permissions per row) without a query per row.
"""

from __future__ import annotations

from targets.pages.allocation import AllocationPage, AllocationRow, allocation_page
from targets.pages.dashboard import (
    Allocation,
    HomePage,
    PeriodChoice,
    TargetPage,
    allocation_of,
    home_page,
    period_choices,
    period_title,
    target_page,
)
from targets.pages.deals import (
    DealFilters,
    DealRow,
    DealsPage,
    colleagues_for_split,
    deal_row,
    deal_rows,
    deals_page,
    reps_for_entry,
)

__all__ = [
    "Allocation",
    "AllocationPage",
    "AllocationRow",
    "DealFilters",
    "DealRow",
    "DealsPage",
    "HomePage",
    "PeriodChoice",
    "TargetPage",
    "allocation_of",
    "allocation_page",
    "colleagues_for_split",
    "deal_row",
    "deal_rows",
    "deals_page",
    "home_page",
    "period_choices",
    "period_title",
    "reps_for_entry",
    "target_page",
]
