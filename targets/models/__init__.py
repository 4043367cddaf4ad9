from .deals import Credit, Deal, DealRemoval, DealSource
from .metrics import (
    Activity,
    DerivationKind,
    Metric,
    MetricAggregation,
    MetricCategory,
    MetricDirection,
    MetricUnit,
    MetricValue,
    MetricValueSource,
    RecordType,
)
from .org import OrgUnit, OrgUnitClosure, Role, RoleAssignment, TeamMembership, UnitKind, User
from .snapshots import FigureSnapshot
from .targets import Measure, Target, TargetRevision

__all__ = [
    "Activity",
    "Credit",
    "Deal",
    "DealRemoval",
    "DealSource",
    "DerivationKind",
    "FigureSnapshot",
    "Measure",
    "Metric",
    "MetricAggregation",
    "MetricCategory",
    "MetricDirection",
    "MetricUnit",
    "MetricValue",
    "MetricValueSource",
    "OrgUnit",
    "OrgUnitClosure",
    "RecordType",
    "Role",
    "RoleAssignment",
    "Target",
    "TargetRevision",
    "TeamMembership",
    "UnitKind",
    "User",
]
