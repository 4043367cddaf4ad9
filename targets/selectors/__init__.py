"""Reads: everything a page or an endpoint shows comes ready from here.

The numbers themselves come from `targets.figures`; these modules add what a page needs
around them (breadcrumbs, period choices, links, chart fragments, permissions per row)
without a query per row. Views and API only parse the request, call one selector, render.
"""

from __future__ import annotations

from targets.selectors.allocation import AllocationPage, AllocationRow, allocation_page
from targets.selectors.dashboard import (
    Allocation,
    HomePage,
    PeriodChoice,
    allocation_of,
    home_page,
    period_choices,
    period_title,
)
from targets.selectors.deals import (
    ConfirmPreview,
    CreditEffect,
    DealFilters,
    DealRow,
    DealsPage,
    colleagues_for_split,
    deal_confirm_preview,
    deal_row,
    deal_rows,
    deals_page,
    reps_for_entry,
)
from targets.selectors.org import users_with_team_since
from targets.selectors.summary import (
    DashboardSummary,
    MonthVolatility,
    SummaryRow,
    dashboard_summary,
)
from targets.selectors.target import TargetDeals, TargetPage, target_deals, target_page

__all__ = [
    "Allocation",
    "AllocationPage",
    "AllocationRow",
    "ConfirmPreview",
    "CreditEffect",
    "DashboardSummary",
    "DealFilters",
    "DealRow",
    "DealsPage",
    "HomePage",
    "MonthVolatility",
    "PeriodChoice",
    "SummaryRow",
    "TargetDeals",
    "TargetPage",
    "allocation_of",
    "allocation_page",
    "colleagues_for_split",
    "dashboard_summary",
    "deal_confirm_preview",
    "deal_row",
    "deal_rows",
    "deals_page",
    "home_page",
    "period_choices",
    "period_title",
    "reps_for_entry",
    "target_deals",
    "target_page",
    "users_with_team_since",
]
