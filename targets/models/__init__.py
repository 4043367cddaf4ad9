from .deals import Credit, Deal, DealRemoval, DealSource
from .org import OrgUnit, OrgUnitClosure, Role, RoleAssignment, TeamMembership, UnitKind, User
from .targets import Measure, Target, TargetRevision

__all__ = [
    "Credit",
    "Deal",
    "DealRemoval",
    "DealSource",
    "Measure",
    "OrgUnit",
    "OrgUnitClosure",
    "Role",
    "RoleAssignment",
    "Target",
    "TargetRevision",
    "TeamMembership",
    "UnitKind",
    "User",
]
