"""The org chart and people from an XLSX/CSV template (SPEC §2, §8 onboarding).

Two tables, told apart by their headers (any of the app's languages): units (code, name,
parent code, kind) and people (username, display name, e-mail, team code, role, role unit,
team since). An XLSX holds both as sheets; a CSV holds one. Everything is written through
the organisation services (`org_unit_save`, `user_save`), so the closure table, team history
and roles follow the same rules as the admin's. Re-importing the same file changes nothing:
units are found by their code (`UnitCode`), or by name under the same parent the first
time; people by username.

Units are few and read whole (capped); people are streamed in batches, checked first and
written in a second pass, so a file with bad rows writes nothing unless `keep_good_rows`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from targets.errors import ValidationError, field_error
from targets.models import OrgUnit, Role, UnitKind, User
from targets.services import RoleGrant, org_unit_save, user_save
from targets.tasks import recompute_figures

from .files import FileRejected, Table, cell_text, check_size, open_tables
from .imports import ImportResult
from .models import UnitCode
from .records import RowError

MAX_UNITS = 5_000
BATCH = 1_000

UNIT_COLUMNS = (
    ("code", gettext_lazy("Unit code"), ("code", "unit_code", "编码", "单元编码", "部门编码")),
    ("name", gettext_lazy("Unit name"), ("name", "名称", "单元名称", "部门名称")),
    ("parent", gettext_lazy("Parent code"), ("parent", "parent_code", "上级", "上级编码")),
    ("kind", gettext_lazy("Unit kind"), ("kind", "type", "类型")),
)
PEOPLE_COLUMNS = (
    ("username", gettext_lazy("Username"), ("username", "login", "用户名", "账号")),
    ("display_name", gettext_lazy("Display name"), ("display_name", "name", "姓名")),
    ("email", gettext_lazy("E-mail"), ("email", "e-mail", "邮箱")),
    ("team", gettext_lazy("Team code"), ("team", "team_code", "团队", "团队编码")),
    ("role", gettext_lazy("Role"), ("role", "roles", "角色")),
    ("role_unit", gettext_lazy("Role unit code"), ("role_unit", "scope", "角色范围")),
    ("team_since", gettext_lazy("In the team since"), ("team_since", "since", "入组日期")),
)


def _known(columns) -> dict[str, str]:
    """Header text in every language, and the aliases, → field."""
    known: dict[str, str] = {}
    for code, _language in settings.LANGUAGES:
        with translation.override(code):
            for name, label, _aliases in columns:
                known[str(label).strip().casefold()] = name
    for name, _label, aliases in columns:
        for alias in aliases:
            known[alias.casefold()] = name
    return known


# Words customers' own org charts use beside the app's labels.
KIND_ALIASES = {"区域": "region", "地区": "region", "小组": "team", "总部": "company"}


def _choices(choices, aliases: dict[str, str] | None = None) -> dict[str, str]:
    """Value or label in any language → value."""
    known = dict(aliases or {})
    for code, _language in settings.LANGUAGES:
        with translation.override(code):
            for value, label in choices:
                known[str(label).strip().casefold()] = value
    for value, _label in choices:
        known[value.casefold()] = value
    return known


def _columns(header: Iterable[Any], known: dict[str, str]) -> list[str | None]:
    return [known.get(cell_text(cell).casefold()) for cell in header]


def _kind_of(header: tuple) -> str | None:
    names = set(_columns(header, _known(UNIT_COLUMNS))) | set(
        _columns(header, _known(PEOPLE_COLUMNS))
    )
    if "username" in names:
        return "people"
    if "code" in names:
        return "units"
    return None


@dataclass
class _UnitRow:
    line: int
    code: str
    name: str
    parent: str
    kind: str


@dataclass
class _Person:
    line: int
    username: str
    display_name: str
    email: str
    team: str
    roles: list[tuple[str, str]] | None  # (role, unit code or "")
    team_since: date | None


@dataclass
class _Check:
    result: ImportResult
    errors: list[RowError] = field(default_factory=list)
    units: dict[str, _UnitRow] = field(default_factory=dict)  # good unit rows by code
    bad_lines: set[int] = field(default_factory=set)

    def bad(self, line: int, column: str, message: str) -> None:
        self.errors.append(RowError(line, column, message))
        self.bad_lines.add(line)


def org_import(
    *,
    stream: IO[bytes],
    size: int,
    user: User | None,
    dry_run: bool = False,
    keep_good_rows: bool = False,
    period: str | None = None,
) -> ImportResult:
    check_size(size)
    try:
        check = _check_file(stream)
        result = check.result
        result.failed = len(check.bad_lines)
        result.errors = [e.as_dict() for e in sorted(check.errors, key=lambda e: e.row)]
        if dry_run or (check.errors and not keep_good_rows):
            return result
        return _write_file(stream, check, keep_good_rows=keep_good_rows)
    except FileRejected as error:
        raise field_error("file", str(error)) from None


def _tables(tables: list[Table]) -> tuple[list[Table], list[Table]]:
    units, people = [], []
    for table in tables:
        kind = _kind_of(table.header)
        if kind == "units":
            units.append(table)
        elif kind == "people":
            people.append(table)
    if not units and not people:
        raise FileRejected(
            _(
                "The first row must name the columns: a units table (code, name, parent, "
                "kind) or a people table (username, display name, e-mail, team, role, "
                "team since). Download the template."
            )
        )
    return units, people


# Check -------------------------------------------------------------------------------------


def _check_file(stream: IO[bytes]) -> _Check:
    with open_tables(stream) as (encoding, tables):
        unit_tables, people_tables = _tables(tables)
        check = _Check(ImportResult(encoding=encoding))
        for table in unit_tables:
            _check_units(table, check)
        _check_unit_tree(check)
        for table in people_tables:
            for batch in _person_batches(table, check):
                _count_people(check.result, [p.username for p in batch])
    return check


def _check_units(table: Table, check: _Check) -> None:
    columns = _columns(table.header, _known(UNIT_COLUMNS))
    kinds = _choices(UnitKind.choices, KIND_ALIASES)
    missing = [n for n in ("code", "name", "kind") if n not in columns]
    if missing:
        raise FileRejected(
            _("The units table misses the columns: %(columns)s.") % {"columns": ", ".join(missing)}
        )
    for line, values in table.numbered():
        check.result.rows += 1
        if len(check.units) >= MAX_UNITS:
            raise FileRejected(_("A file holds at most %(n)s units.") % {"n": MAX_UNITS})
        raw = {c: cell_text(v) for c, v in zip(columns, values, strict=False) if c}
        before = len(check.errors)
        code, name = raw.get("code", ""), raw.get("name", "")
        if not code:
            check.bad(line, "code", _("Give the unit a code."))
        elif len(code) > 64:
            check.bad(line, "code", _("At most 64 characters."))
        elif code in check.units:
            check.bad(
                line,
                "code",
                _("%(id)s appears twice (also on row %(other)s).")
                % {"id": code, "other": check.units[code].line},
            )
        if not name:
            check.bad(line, "name", _("Give the unit a name."))
        elif len(name) > 120:
            check.bad(line, "name", _("At most 120 characters."))
        kind = kinds.get(raw.get("kind", "").casefold())
        if kind is None:
            check.bad(line, "kind", _("The kind is company, region or team."))
        parent = raw.get("parent", "")
        if parent and parent == code:
            check.bad(line, "parent", _("A unit cannot be its own parent."))
        if len(check.errors) == before:
            check.units[code] = _UnitRow(line, code, name, parent, kind)  # type: ignore[arg-type]


def _check_unit_tree(check: _Check) -> None:
    """Parents exist (in the file or imported before), no cycles, names unique among
    siblings; a unit under a bad parent is bad too."""
    known = set(
        UnitCode.objects.filter(
            code__in={u.parent for u in check.units.values() if u.parent}
        ).values_list("code", flat=True)
    )
    changed = True
    while changed:
        changed = False
        for code, unit in list(check.units.items()):
            if unit.parent and unit.parent not in check.units and unit.parent not in known:
                check.bad(
                    unit.line,
                    "parent",
                    _("No unit with the code %(code)s (in this file or imported before).")
                    % {"code": unit.parent},
                )
                del check.units[code]
                changed = True
    looping = []
    for code, unit in check.units.items():
        seen, parent = {code}, unit.parent
        while parent in check.units:
            if parent in seen:
                looping.append(code)
                break
            seen.add(parent)
            parent = check.units[parent].parent
    for code in looping:
        check.bad(check.units[code].line, "parent", _("The parents of this unit form a loop."))
        del check.units[code]
    siblings: dict[tuple[str, str], int] = {}
    for code, unit in list(check.units.items()):
        key = (unit.parent, unit.name.casefold())
        if key in siblings:
            check.bad(
                unit.line,
                "name",
                _("Another unit under the same parent has this name (row %(other)s).")
                % {"other": siblings[key]},
            )
            del check.units[code]
        else:
            siblings[key] = unit.line
    existing = set(
        UnitCode.objects.filter(code__in=list(check.units)).values_list("code", flat=True)
    )
    check.result.updated += len(existing)
    check.result.created += len(check.units) - len(existing)


def _person_batches(table: Table, check: _Check) -> Iterator[list[_Person]]:
    """The good people of a table, a batch at a time; bad rows go to `check`."""
    columns = _columns(table.header, _known(PEOPLE_COLUMNS))
    if "username" not in columns:
        raise FileRejected(_("The people table misses the column: username."))
    roles = _choices(Role.choices)
    seen: set[str] = set()
    rows = table.numbered()
    while batch := list(islice(rows, BATCH)):
        raws = [
            (line, {c: v for c, v in zip(columns, values, strict=False) if c})
            for line, values in batch
        ]
        codes = {
            cell_text(raw.get(name))
            for _line, raw in raws
            for name in ("team", "role_unit")
            if cell_text(raw.get(name))
        } - set(check.units)
        stored = set(UnitCode.objects.filter(code__in=codes).values_list("code", flat=True))
        good = []
        for line, raw in raws:
            check.result.rows += 1
            person = _check_person(line, raw, check, roles, seen, stored)
            if person is not None:
                good.append(person)
        yield good


def _check_person(
    line: int, raw: dict, check: _Check, roles: dict, seen: set[str], stored: set[str]
) -> _Person | None:
    before = len(check.errors)
    username = cell_text(raw.get("username"))
    if not username:
        check.bad(line, "username", _("Give the username."))
    elif len(username) > 150:
        check.bad(line, "username", _("At most 150 characters."))
    else:
        try:
            UnicodeUsernameValidator()(username)
        except DjangoValidationError as error:
            check.bad(line, "username", error.messages[0])
        if username.casefold() in seen:
            check.bad(line, "username", _("%(id)s appears twice.") % {"id": username})
        seen.add(username.casefold())
    display_name = cell_text(raw.get("display_name"))
    if len(display_name) > 120:
        check.bad(line, "display_name", _("At most 120 characters."))
    email = cell_text(raw.get("email"))
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            check.bad(line, "email", _("'%(value)s' is not an e-mail address.") % {"value": email})

    def known_unit(code: str) -> bool:
        return code in check.units or code in stored

    team = cell_text(raw.get("team"))
    if team and not known_unit(team):
        check.bad(
            line,
            "team",
            _("No unit with the code %(code)s (in this file or imported before).") % {"code": team},
        )
    grants: list[tuple[str, str]] | None = None
    role_text = cell_text(raw.get("role"))
    if role_text:
        role_unit = cell_text(raw.get("role_unit")) or team
        # A role on the team: a bad team is reported once, above.
        team_reported = not cell_text(raw.get("role_unit")) and len(check.errors) != before
        grants = []
        for part in [p.strip() for p in role_text.replace("；", ";").split(";") if p.strip()]:
            role = roles.get(part.casefold())
            if role is None:
                check.bad(line, "role", _("Unknown role '%(role)s'.") % {"role": part})
            elif role != Role.ADMIN and not role_unit:
                check.bad(line, "role_unit", _("Name the unit the role applies to."))
            elif role != Role.ADMIN and not known_unit(role_unit) and not team_reported:
                check.bad(
                    line,
                    "role_unit",
                    _("No unit with the code %(code)s (in this file or imported before).")
                    % {"code": role_unit},
                )
            elif known_unit(role_unit) or role == Role.ADMIN:
                grants.append((role, "" if role == Role.ADMIN else role_unit))
    since = _date(raw.get("team_since"))
    if raw.get("team_since") not in (None, "") and since is None:
        check.bad(line, "team_since", _("Give the date as YYYY-MM-DD."))
    elif since and since > timezone.localdate():
        check.bad(line, "team_since", _("The date cannot be in the future."))
    elif since and not team:
        check.bad(line, "team_since", _("A date in the team needs the team."))
    if len(check.errors) != before:
        return None
    return _Person(line, username, display_name, email, team, grants, since)


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value).replace("/", "-")
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _count_people(result: ImportResult, usernames: list[str]) -> None:
    known = User.objects.filter(username__in=usernames).count()
    result.updated += known
    result.created += len(usernames) - known


# Write -------------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


def _write_file(stream: IO[bytes], check: _Check, *, keep_good_rows: bool) -> ImportResult:
    result = check.result
    errors: list[RowError] = []
    result.created = result.updated = 0
    try:
        with transaction.atomic():
            codes = _write_units(check.units, result, errors)
            with open_tables(stream) as (_encoding, tables):
                _unit_tables, people_tables = _tables(tables)
                replay = _Check(ImportResult(), units=check.units)
                for table in people_tables:
                    for batch in _person_batches(table, replay):
                        _write_people(batch, codes, result, errors)
            if errors and not keep_good_rows:
                raise _Rollback
    except _Rollback:
        result.created = result.updated = 0
        result.errors = [e.as_dict() for e in sorted(errors, key=lambda e: e.row)]
        result.failed = len({e.row for e in errors})
        return result
    if errors:
        result.errors += [e.as_dict() for e in errors]
        result.failed += len({e.row for e in errors})
    result.written = True
    recompute_figures.delay_on_commit()
    return result


def _write_units(units: dict[str, _UnitRow], result: ImportResult, errors) -> dict[str, OrgUnit]:
    """Parents first; each unit in a savepoint so one refused unit leaves the rest."""
    stored = {c.code: c.unit for c in UnitCode.objects.select_related("unit")}
    done: dict[str, OrgUnit] = {}
    pending = dict(units)
    while pending:
        ready = [u for u in pending.values() if not u.parent or u.parent not in pending]
        for row in ready:
            del pending[row.code]
            parent = done.get(row.parent) or stored.get(row.parent) if row.parent else None
            if row.parent and parent is None:
                errors.append(RowError(row.line, "parent", _("Its parent was not imported.")))
                continue
            unit = (
                stored.get(row.code) or OrgUnit.objects.filter(parent=parent, name=row.name).first()
            )
            if unit is not None and (unit.name, unit.kind, unit.parent_id) == (
                row.name,
                row.kind,
                parent.pk if parent else None,
            ):
                done[row.code] = unit
                if row.code not in stored:
                    _code(unit, row.code)
                continue
            try:
                with transaction.atomic():
                    saved = org_unit_save(unit=unit, name=row.name, kind=row.kind, parent=parent)
                    if row.code not in stored:
                        _code(saved, row.code)
            except DjangoValidationError as error:
                errors.extend(RowError(row.line, "name", m) for m in error.messages)
                continue
            done[row.code] = saved
            if unit is None:
                result.created += 1
            else:
                result.updated += 1
    return {**stored, **done}


def _code(unit: OrgUnit, code: str) -> None:
    """Give `unit` this code; a unit known by another code before takes the new one."""
    UnitCode.objects.filter(unit=unit).exclude(code=code).delete()
    UnitCode.objects.get_or_create(code=code, defaults={"unit": unit})


def _write_people(batch: list[_Person], codes: dict[str, OrgUnit], result, errors) -> None:
    existing = {
        u.username: u for u in User.objects.filter(username__in=[p.username for p in batch])
    }
    for person in batch:
        missing = [
            code
            for code in [person.team, *(unit for _role, unit in person.roles or [])]
            if code and code not in codes
        ]
        if missing:  # its unit's row was refused while writing
            errors.append(
                RowError(
                    person.line,
                    "team",
                    _("No unit with the code %(code)s (in this file or imported before).")
                    % {"code": missing[0]},
                )
            )
            continue
        current = existing.get(person.username)
        team = codes.get(person.team) if person.team else (current.team if current else None)
        grants = (
            None
            if person.roles is None
            else [RoleGrant(role, codes.get(unit) if unit else None) for role, unit in person.roles]
        )
        if current is not None and _unchanged(current, person, team, grants):
            continue
        try:
            with transaction.atomic():
                user_save(
                    user=current,
                    username=person.username,
                    display_name=person.display_name or (current.display_name if current else ""),
                    email=person.email or (current.email if current else ""),
                    team=team,
                    team_since=person.team_since,
                    roles=grants,
                    language=current.language if current else "",
                )
        except (DjangoValidationError, ValidationError) as error:
            by_field = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
            for name, messages in by_field.items():
                errors.extend(RowError(person.line, name, m) for m in messages)
            continue
        if current is None:
            result.created += 1
        else:
            result.updated += 1


def _unchanged(user: User, person: _Person, team: OrgUnit | None, grants) -> bool:
    """Nothing to write: the same file imported again leaves people (and history) alone."""
    if (person.display_name or user.display_name) != user.display_name:
        return False
    if (person.email or user.email) != user.email:
        return False
    if (team.pk if team else None) != user.team_id:
        return False
    if person.team_since is not None:
        current = user.memberships.filter(valid_to__isnull=True).first()
        if current is None or current.valid_from != person.team_since:
            return False
    if grants is not None:
        have = set(user.role_assignments.values_list("role", "unit_id"))
        if have != {(g.role, g.unit.pk if g.unit else None) for g in grants}:
            return False
    return True
