"""The quarter target grid (SPEC §3 "Setting targets"): every unit and rep below a unit.

The page reads a fixed number of statements whatever the size of the tree: the units of
the subtree, its reps, this quarter's targets of both, and the user's grants. The tools
(fill, split, roll up) and the reconciliation are pure functions of the lines and of the
amounts as typed, so they can work on a draft that is not saved yet.

"Children" are what `targets.figures` counts for allocation coverage: a unit's child units
and the reps whose team it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from targets.access import access_for, can_set_target
from targets.figures import figures_for
from targets.models import Measure, OrgUnit, OrgUnitClosure, Role, Target, User
from targets.periods import Month, Quarter
from targets.selectors.dashboard import PeriodChoice, period_choices, period_title

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)
AMOUNT_FIELDS = ("base", "stretch", "base_bonus", "stretch_bonus")
WEIGHT_FIELDS = ("w1", "w2", "w3")
FIELDS = ("base", "stretch", "w1", "w2", "w3", "base_bonus", "stretch_bonus")


def unit_key(unit_id: int) -> str:
    return f"unit-{unit_id}"


def user_key(user_id: int) -> str:
    return f"user-{user_id}"


@dataclass(frozen=True)
class GridLine:
    key: str  # "unit-12" / "user-34": form prefix and XLSX key
    name: str
    kind: str  # "company" / "region" / "team" / "rep"
    kind_label: str
    depth: int
    unit: OrgUnit | None
    user: User | None
    parent_key: str | None
    parent_name: str
    child_keys: tuple[str, ...]
    target: Target | None
    settable: bool
    locked: bool

    @property
    def editable(self) -> bool:
        return self.settable and not self.locked

    @property
    def is_unit(self) -> bool:
        return self.unit is not None

    @property
    def indent(self) -> str:
        """The name cell's left padding in rem (the tree's indentation)."""
        return f"{self.depth * 1.25:.2f}"


@dataclass(frozen=True)
class Crumb:
    unit: int
    name: str
    link: bool


@dataclass(frozen=True)
class GridPage:
    unit: OrgUnit
    period: Quarter
    period_title: str
    previous: Quarter
    periods: list[PeriodChoice]
    months: tuple[Month, Month, Month]
    crumbs: list[Crumb]
    lines: list[GridLine]
    started: bool

    @property
    def by_key(self) -> dict[str, GridLine]:
        return {line.key: line for line in self.lines}

    @property
    def may_edit(self) -> bool:
        return any(line.editable for line in self.lines)

    @property
    def locked_count(self) -> int:
        return sum(1 for line in self.lines if line.locked)

    @property
    def read_only_count(self) -> int:
        return sum(1 for line in self.lines if not line.settable)


def _grid_reps(unit_ids: list[int], period: Quarter) -> list[User]:
    """Active reps of the subtree's teams, and anyone there who already holds a target."""
    holds_target = Q(targets__period=period.label, targets__measure=Measure.REVENUE)
    active_rep = Q(is_active=True, role_assignments__role=Role.REP)
    return list(
        User.objects.filter(team__in=unit_ids)
        .filter(active_rep | holds_target)
        .distinct()
        .order_by("display_name", "username")
    )


def grid_page(*, user: User, unit: OrgUnit, period: Quarter, today: date) -> GridPage:
    """`unit` must have passed `access.unit_get_for_target_setting`."""
    units = list(
        OrgUnit.objects.filter(
            pk__in=OrgUnitClosure.objects.filter(ancestor=unit).values("descendant")
        ).order_by("name", "pk")
    )
    unit_ids = [u.pk for u in units]
    reps = _grid_reps(unit_ids, period)
    targets = Target.objects.filter(period=period.label, measure=Measure.REVENUE).filter(
        Q(owner_unit__in=unit_ids) | Q(owner_user__in=[r.pk for r in reps])
    )
    by_owner = {
        unit_key(t.owner_unit_id) if t.owner_unit_id else user_key(t.owner_user_id): t
        for t in targets
    }
    children: dict[int | None, list[OrgUnit]] = {}
    for u in units:
        children.setdefault(u.parent_id, []).append(u)
    members: dict[int, list[User]] = {}
    for rep in reps:
        members.setdefault(rep.team_id, []).append(rep)
    names = {u.pk: u.name for u in units}
    started = today >= period.start
    lines: list[GridLine] = []

    def add_unit(node: OrgUnit, depth: int) -> None:
        reps_here = members.get(node.pk, [])
        sub_units = children.get(node.pk, [])
        key = unit_key(node.pk)
        target = by_owner.get(key)
        lines.append(
            GridLine(
                key=key,
                name=node.name,
                kind=node.kind,
                kind_label=node.get_kind_display(),
                depth=depth,
                unit=node,
                user=None,
                parent_key=unit_key(node.parent_id) if node.parent_id in names else None,
                parent_name=names.get(node.parent_id, ""),
                child_keys=tuple(
                    [user_key(r.pk) for r in reps_here] + [unit_key(c.pk) for c in sub_units]
                ),
                target=target,
                settable=can_set_target(user, owner_unit=node, owner_user=None),
                locked=target is not None and started,
            )
        )
        for rep in reps_here:
            rkey = user_key(rep.pk)
            rtarget = by_owner.get(rkey)
            lines.append(
                GridLine(
                    key=rkey,
                    name=str(rep),
                    kind="rep",
                    kind_label=_("Sales rep"),
                    depth=depth + 1,
                    unit=None,
                    user=rep,
                    parent_key=key,
                    parent_name=node.name,
                    child_keys=(),
                    target=rtarget,
                    settable=can_set_target(user, owner_unit=None, owner_user=rep),
                    locked=rtarget is not None and started,
                )
            )
        for sub in sub_units:
            add_unit(sub, depth + 1)

    add_unit(unit, 0)
    return GridPage(
        unit=unit,
        period=period,
        period_title=period_title(period.label),
        previous=period.previous(),
        periods=period_choices(selected=period, today=today),
        months=period.months,
        crumbs=_crumbs(user=user, unit=unit),
        lines=lines,
        started=started,
    )


def _crumbs(*, user: User, unit: OrgUnit) -> list[Crumb]:
    chain = OrgUnitClosure.objects.filter(descendant=unit).order_by("-depth")
    access = access_for(user)
    return [
        Crumb(
            unit=unit_id,
            name=name,
            link=access.is_admin or access.covers(unit_id, Role.SALES_DIRECTOR, Role.SALES_MANAGER),
        )
        for unit_id, name in chain.values_list("ancestor_id", "ancestor__name")
    ]


# Drafts: the amounts as typed, before anything is saved --------------------------------


@dataclass(frozen=True)
class Draft:
    """One line's values; None where nothing (or nothing readable) was typed."""

    base: Decimal | None = None
    stretch: Decimal | None = None
    w1: Decimal | None = None
    w2: Decimal | None = None
    w3: Decimal | None = None
    base_bonus: Decimal | None = None
    stretch_bonus: Decimal | None = None

    @classmethod
    def of(cls, target: Target | None) -> Draft:
        if target is None:
            return cls()
        return cls(
            base=target.base,
            stretch=target.stretch,
            w1=target.weight_m1,
            w2=target.weight_m2,
            w3=target.weight_m3,
            base_bonus=target.base_bonus,
            stretch_bonus=target.stretch_bonus,
        )


Changes = dict[str, dict[str, Decimal | None]]


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def scale(amount: Decimal, percent: Decimal) -> Decimal:
    """`amount` plus `percent` percent of it, to the cent."""
    return _money(amount * (HUNDRED + percent) / HUNDRED)


def split_amount(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`total` in shares proportional to `weights`, to the cent, summing exactly to `total`.

    Cents lost to rounding down go to the largest remainders (then to the first shares), so
    splitting 1,000,000 in three gives 333,333.34 + 333,333.33 + 333,333.33.
    """
    whole = sum(weights, ZERO)
    if not weights or whole <= 0:
        raise ValueError("weights must be positive")
    cents = int((total / CENT).to_integral_value(rounding=ROUND_HALF_UP))
    exact = [Decimal(cents) * w / whole for w in weights]
    shares = [int(e.to_integral_value(rounding=ROUND_DOWN)) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[: cents - sum(shares)]:
        shares[i] += 1
    return [Decimal(s) * CENT for s in shares]


@dataclass
class ToolResult:
    changes: Changes = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Previous:
    """Last quarter's target of an owner, and its actual (for filling from actuals)."""

    base: Decimal
    stretch: Decimal
    weights: tuple[Decimal, Decimal, Decimal] | None
    base_bonus: Decimal | None
    stretch_bonus: Decimal | None
    actual: Decimal | None = None


def previous_quarter(page: GridPage, *, today: date, with_actuals: bool) -> dict[str, Previous]:
    """Last quarter's targets of the grid's owners (and their actuals from `figures`)."""
    unit_ids = [line.unit.pk for line in page.lines if line.unit]
    user_ids = [line.user.pk for line in page.lines if line.user]
    targets = list(
        Target.objects.filter(period=page.previous.label, measure=Measure.REVENUE).filter(
            Q(owner_unit__in=unit_ids) | Q(owner_user__in=user_ids)
        )
    )
    figures = {}
    if with_actuals and targets:
        figures = figures_for(targets, as_of=min(today, page.previous.end))
    result = {}
    for t in targets:
        key = unit_key(t.owner_unit_id) if t.owner_unit_id else user_key(t.owner_user_id)
        result[key] = Previous(
            base=t.base,
            stretch=t.stretch,
            weights=tuple(t.phasing) if t.phasing else None,
            base_bonus=t.base_bonus,
            stretch_bonus=t.stretch_bonus,
            actual=figures[t.pk].actual if t.pk in figures else None,
        )
    return result


def grid_fill(
    page: GridPage,
    drafts: dict[str, Draft],
    previous: dict[str, Previous],
    *,
    percent: Decimal,
    from_actuals: bool,
) -> ToolResult:
    """Every editable line from last quarter: its Base (or its actual) ± `percent`.

    From targets, Stretch scales the same way; from actuals, Stretch keeps last quarter's
    Stretch-to-Base ratio. Phasing and bonuses are copied where the line has none yet.
    """
    result = ToolResult()
    missing = 0
    for line in page.lines:
        if not line.editable:
            continue
        last = previous.get(line.key)
        if last is None or (from_actuals and last.actual is None):
            missing += 1
            continue
        if from_actuals:
            base = scale(last.actual, percent)
            ratio = last.stretch / last.base if last.base else Decimal(1)
            stretch = max(base, _money(base * ratio))
        else:
            base, stretch = scale(last.base, percent), scale(last.stretch, percent)
        change: dict[str, Decimal | None] = {"base": base, "stretch": stretch}
        draft = drafts.get(line.key, Draft())
        if last.weights and draft.w1 is None and draft.w2 is None and draft.w3 is None:
            change.update(zip(WEIGHT_FIELDS, last.weights, strict=True))
        if draft.base_bonus is None and last.base_bonus is not None:
            change["base_bonus"] = last.base_bonus
        if draft.stretch_bonus is None and last.stretch_bonus is not None:
            change["stretch_bonus"] = last.stretch_bonus
        result.changes[line.key] = change
    values = {
        "count": len(result.changes),
        "quarter": page.previous.label,
        "percent": f"{'+' if percent >= 0 else ''}{percent.normalize():f}",
    }
    if from_actuals:
        note = _("Filled %(count)s rows from %(quarter)s's actuals (%(percent)s%%).")
    else:
        note = _("Filled %(count)s rows from %(quarter)s's targets (%(percent)s%%).")
    result.notes.append(note % values)
    if missing:
        result.notes.append(
            _("%(count)s rows had nothing last quarter and were left as they were.")
            % {"count": missing}
        )
    result.notes.append(_("Nothing is saved until you save the grid."))
    return result


class SplitMode:
    EVEN = "even"
    CURRENT = "current"
    ACTUALS = "actuals"


def grid_split(
    page: GridPage,
    drafts: dict[str, Draft],
    parent_key: str,
    *,
    mode: str,
    previous: dict[str, Previous] | None = None,
) -> ToolResult:
    """The parent's Base and Stretch among its editable direct children.

    Children that cannot be changed here (locked, or outside what the user may set) keep
    theirs; the rest of the parent's amounts is split among the others by `mode`: evenly,
    by the children's current Base (type 3, 2, 1 to split 3:2:1), or by last quarter's
    actuals.
    """
    result = ToolResult()
    lines = page.by_key
    parent = lines.get(parent_key)
    if parent is None or not parent.child_keys:
        result.errors.append(_("This row has nothing below it to split among."))
        return result
    draft = drafts.get(parent_key, Draft())
    if draft.base is None or draft.stretch is None:
        result.errors.append(
            _("Give %(name)s a Base and a Stretch before splitting it.") % {"name": parent.name}
        )
        return result
    editable = [k for k in parent.child_keys if lines[k].editable]
    fixed = [k for k in parent.child_keys if not lines[k].editable]
    if not editable:
        result.errors.append(
            _("None of %(name)s's children can be changed here.") % {"name": parent.name}
        )
        return result
    fixed_base = sum((drafts.get(k, Draft()).base or ZERO for k in fixed), ZERO)
    fixed_stretch = sum((drafts.get(k, Draft()).stretch or ZERO for k in fixed), ZERO)
    base_left, stretch_left = draft.base - fixed_base, draft.stretch - fixed_stretch
    if base_left < 0 or stretch_left < 0:
        result.errors.append(
            _("The children that cannot be changed already hold more than %(name)s's amounts.")
            % {"name": parent.name}
        )
        return result
    if mode == SplitMode.CURRENT:
        weights = [drafts.get(k, Draft()).base or ZERO for k in editable]
    elif mode == SplitMode.ACTUALS:
        weights = [
            (previous or {}).get(k, Previous(ZERO, ZERO, None, None, None)).actual or ZERO
            for k in editable
        ]
    else:
        weights = [Decimal(1)] * len(editable)
    if sum(weights, ZERO) <= 0 or any(w < 0 for w in weights):
        result.errors.append(
            _("The children have nothing to weigh the split by; split evenly instead.")
        )
        return result
    bases = split_amount(base_left, weights)
    stretches = split_amount(stretch_left, weights)
    for key, base, stretch in zip(editable, bases, stretches, strict=True):
        # Rounding each share on its own could leave a child's Stretch a cent below its Base.
        result.changes[key] = {"base": base, "stretch": max(base, stretch)}
    result.notes.append(
        _("Split %(name)s among %(count)s children. Nothing is saved until you save the grid.")
        % {"name": parent.name, "count": len(editable)}
    )
    return result


def grid_roll_up(page: GridPage, drafts: dict[str, Draft], parent_key: str) -> ToolResult:
    """The parent's Base and Stretch become the sums of its direct children's."""
    result = ToolResult()
    parent = page.by_key.get(parent_key)
    if parent is None or not parent.child_keys:
        result.errors.append(_("This row has nothing below it to roll up."))
        return result
    if not parent.editable:
        result.errors.append(_("%(name)s cannot be changed here.") % {"name": parent.name})
        return result
    with_amounts = [
        drafts[k] for k in parent.child_keys if k in drafts and drafts[k].base is not None
    ]
    if not with_amounts:
        result.errors.append(
            _("None of %(name)s's children has a Base to add up.") % {"name": parent.name}
        )
        return result
    base = sum((d.base for d in with_amounts), ZERO)
    stretch = sum((d.stretch if d.stretch is not None else d.base for d in with_amounts), ZERO)
    result.changes[parent_key] = {"base": base, "stretch": max(base, stretch)}
    result.notes.append(
        _("%(name)s now holds the sum of its children. Nothing is saved until you save the grid.")
        % {"name": parent.name}
    )
    return result


# Reconciliation ---------------------------------------------------------------------


class Balance:
    MATCHES = "matches"
    UNDER = "under"
    OVER = "over"
    OPEN = "open"  # the parent has no Base to compare with


@dataclass(frozen=True)
class Reconciliation:
    children_base: Decimal
    children_set: int
    children: int
    balance: str
    gap: Decimal  # positive: how far under / over

    @property
    def matches(self) -> bool:
        return self.balance == Balance.MATCHES


def grid_reconciliation(
    lines: Iterable[GridLine], drafts: dict[str, Draft]
) -> dict[str, Reconciliation]:
    """Each parent's Base against the Σ Base of its direct children, as typed."""
    result = {}
    for line in lines:
        if not line.child_keys:
            continue
        bases = [drafts[k].base for k in line.child_keys if k in drafts]
        bases = [b for b in bases if b is not None]
        total = sum(bases, ZERO)
        own = drafts.get(line.key, Draft()).base
        if own is None:
            balance, gap = Balance.OPEN, ZERO
        elif total < own:
            balance, gap = Balance.UNDER, own - total
        elif total > own:
            balance, gap = Balance.OVER, total - own
        else:
            balance, gap = Balance.MATCHES, ZERO
        result[line.key] = Reconciliation(
            children_base=total,
            children_set=len(bases),
            children=len(line.child_keys),
            balance=balance,
            gap=gap,
        )
    return result


# XLSX ---------------------------------------------------------------------------------


def grid_sheet_rows(page: GridPage) -> list:
    """The saved grid as export rows, in tree order."""
    from targets.grid_xlsx import SheetRow

    rows = []
    for line in page.lines:
        target = line.target
        rows.append(
            SheetRow(
                key=line.key,
                name=line.name,
                kind=line.kind_label,
                parent=line.parent_name,
                base=target.base if target else None,
                stretch=target.stretch if target else None,
                weights=tuple(target.phasing) if target and target.phasing else None,
                base_bonus=target.base_bonus if target else None,
                stretch_bonus=target.stretch_bonus if target else None,
                version=target.version if target else None,
            )
        )
    return rows


@dataclass(frozen=True)
class ImportProblem:
    line: int | None
    name: str
    message: str


@dataclass
class ImportPlan:
    """What an uploaded file does to the grid: the values to put in, or why it is refused.

    A problem the grid cannot show on an editable row (an unreadable cell, an unknown key,
    a locked or read-only row with other values) refuses the whole file, so nothing of it
    is half applied.
    """

    changes: Changes = field(default_factory=dict)
    versions: dict[str, int | None] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # key → row in the file
    errors: list[ImportProblem] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.errors)


def grid_import_plan(page: GridPage, parsed) -> ImportPlan:
    plan = ImportPlan()
    lines = page.by_key
    for error in parsed.errors:
        name = lines[error.key].name if error.key in lines else ""
        plan.errors.append(ImportProblem(error.line, name, error.message))
    if parsed.period and parsed.period != page.period.label:
        plan.errors.append(
            ImportProblem(
                None,
                "",
                _("This file holds the targets of %(file)s; the grid shows %(grid)s.")
                % {"file": parsed.period, "grid": page.period.label},
            )
        )
    for row in parsed.rows:
        line = lines.get(row.key)
        if line is None:
            plan.errors.append(
                ImportProblem(
                    row.line,
                    "",
                    _("%(key)s is not a unit or rep of this grid.") % {"key": row.key},
                )
            )
            continue
        plan.lines[row.key] = row.line
        if not line.editable:
            current = Draft.of(line.target)
            if any(row.values[name] != getattr(current, name) for name in FIELDS):
                message = (
                    _(
                        "The quarter has started for this target: its amounts change only "
                        "through an approved adjustment."
                    )
                    if line.locked
                    else _("You may not set this target.")
                )
                plan.errors.append(ImportProblem(row.line, line.name, message))
            continue
        plan.changes[row.key] = dict(row.values)
        if line.target is not None:
            # The version the file was exported at: a row changed since is a conflict.
            plan.versions[row.key] = row.version or line.target.version
    return plan
