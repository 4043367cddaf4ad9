from .deals import Credit, Deal, DealRemoval, DealSource
from .org import OrgUnit, OrgUnitClosure, Role, RoleAssignment, TeamMembership, UnitKind, User
from .snapshots import FigureSnapshot
from .targets import Measure, Target, TargetRevision

__all__ = [
    "Credit",
    "Deal",
    "DealRemoval",
    "DealSource",
    "FigureSnapshot",
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
