"""Writes. Every change of organisation, targets and deals goes through here."""

from .deals import (
    Split,
    deal_confirm,
    deal_create_manual,
    deal_remove,
    deal_save_credits,
    deal_upsert,
    manual_deal_close_date_range,
)
from .grid import GridRejected, GridRow, GridSaved, target_grid_save
from .org import (
    RoleGrant,
    company_of,
    credits_assign_teams,
    org_tree_rebuild,
    org_unit_delete,
    org_unit_save,
    user_move_team,
    user_save,
)
from .targets import (
    AllocationRejected,
    ChildAmounts,
    parse_phasing,
    target_allocate,
    target_create,
    target_delete,
    target_revise,
    target_set_derived,
    target_update,
)

__all__ = [
    "AllocationRejected",
    "ChildAmounts",
    "GridRejected",
    "GridRow",
    "GridSaved",
    "RoleGrant",
    "Split",
    "company_of",
    "credits_assign_teams",
    "deal_confirm",
    "deal_create_manual",
    "deal_remove",
    "deal_save_credits",
    "deal_upsert",
    "manual_deal_close_date_range",
    "org_tree_rebuild",
    "org_unit_delete",
    "org_unit_save",
    "parse_phasing",
    "target_allocate",
    "target_create",
    "target_delete",
    "target_grid_save",
    "target_revise",
    "target_set_derived",
    "target_update",
    "user_move_team",
    "user_save",
]
