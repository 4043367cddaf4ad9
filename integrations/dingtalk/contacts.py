"""The org chart from DingTalk contacts: departments become units, users become people.

The preview reads DingTalk and says, row by row, what an import would create, match or
change; it writes nothing. The import reads DingTalk again and applies the same plan in one
transaction. Departments are remembered by id (DingTalkDepartment), people by their DingTalk
user id, so a second import matches everything and changes only what changed in DingTalk.

The root department is the company; its sub-departments are regions, anything deeper is a
team. A person belongs to the deepest team among their departments.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from integrations.models import Connection
from targets import services as target_services
from targets.models import OrgUnit, Role, UnitKind, User

from .client import DingTalkClient
from .models import DingTalkDepartment

ROOT_DEPT = 1
USERNAME = re.compile(r"^[\w.@+-]{1,150}$")


class Action:
    CREATE = "create"
    UPDATE = "update"
    MATCH = "match"
    SKIP = "skip"
    LABELS = {
        CREATE: gettext_lazy("Create"),
        UPDATE: gettext_lazy("Update"),
        MATCH: gettext_lazy("Matched"),
        SKIP: gettext_lazy("Skipped"),
    }


@dataclass
class UnitRow:
    dept_id: int
    name: str
    parent_dept: int | None
    kind: str
    action: str = Action.CREATE
    unit: OrgUnit | None = None
    changes: list[str] = field(default_factory=list)

    @property
    def action_label(self) -> str:
        return str(Action.LABELS[self.action])

    @property
    def kind_label(self) -> str:
        return str(UnitKind(self.kind).label)


@dataclass
class PersonRow:
    userid: str
    name: str
    email: str
    team_dept: int | None
    team_name: str = ""
    username: str = ""
    action: str = Action.CREATE
    user: User | None = None
    changes: list[str] = field(default_factory=list)
    # Said on the preview without being a change: a second import would say it again.
    notes: list[str] = field(default_factory=list)

    @property
    def action_label(self) -> str:
        return str(Action.LABELS[self.action])

    @property
    def remarks(self) -> list[str]:
        return self.changes + self.notes


@dataclass
class ContactsPlan:
    units: list[UnitRow]
    people: list[PersonRow]

    def count(self, rows: list, action: str) -> int:
        return sum(1 for row in rows if row.action == action)

    @property
    def summary(self) -> dict[str, int]:
        return {
            "units_create": self.count(self.units, Action.CREATE),
            "units_update": self.count(self.units, Action.UPDATE),
            "units_match": self.count(self.units, Action.MATCH),
            "people_create": self.count(self.people, Action.CREATE),
            "people_update": self.count(self.people, Action.UPDATE),
            "people_match": self.count(self.people, Action.MATCH),
            "people_skip": self.count(self.people, Action.SKIP),
        }


@dataclass
class ContactsResult:
    units_created: int
    units_updated: int
    people_created: int
    people_updated: int


@dataclass
class _Directory:
    departments: list[dict[str, Any]]  # breadth first: a parent before its children
    depth: dict[int, int]
    users: list[dict[str, Any]]


def _fetch(client: DingTalkClient) -> _Directory:
    root = client.department_get(ROOT_DEPT)
    departments = [
        {"dept_id": ROOT_DEPT, "name": root.get("name") or "DingTalk", "parent_id": None}
    ]
    depth = {ROOT_DEPT: 0}
    queue = deque([ROOT_DEPT])
    while queue:
        parent = queue.popleft()
        for child in client.departments_below(parent):
            dept_id = int(child["dept_id"])
            if dept_id in depth:
                continue
            depth[dept_id] = depth[parent] + 1
            departments.append(
                {"dept_id": dept_id, "name": str(child.get("name", "")), "parent_id": parent}
            )
            queue.append(dept_id)
    users: dict[str, dict[str, Any]] = {}
    for department in departments:
        for user in client.users_in(department["dept_id"]):
            userid = str(user.get("userid") or "")
            if userid and userid not in users:
                users[userid] = user
    return _Directory(departments=departments, depth=depth, users=list(users.values()))


def _kind(depth: int) -> str:
    return UnitKind.COMPANY if depth == 0 else UnitKind.REGION if depth == 1 else UnitKind.TEAM


def _plan(connection: Connection, directory: _Directory) -> ContactsPlan:
    units = {unit.pk: unit for unit in OrgUnit.objects.all()}
    by_parent_name = {(u.parent_id, u.name): u for u in units.values()}
    roots = [u for u in units.values() if u.parent_id is None]
    mapped = dict(
        DingTalkDepartment.objects.filter(connection=connection).values_list("dept_id", "unit_id")
    )
    rows: dict[int, UnitRow] = {}
    for department in directory.departments:
        dept_id, name, parent_dept = (
            department["dept_id"],
            department["name"],
            department["parent_id"],
        )
        row = UnitRow(
            dept_id=dept_id,
            name=name,
            parent_dept=parent_dept,
            kind=_kind(directory.depth[dept_id]),
        )
        parent_row = rows.get(parent_dept) if parent_dept is not None else None
        parent_unit = parent_row.unit if parent_row else None
        unit = units.get(mapped.get(dept_id))
        if unit is None and parent_dept is None:
            same_name = [u for u in roots if u.name == name]
            unit = same_name[0] if same_name else (roots[0] if len(roots) == 1 else None)
            known = True  # the company keeps its own name in TargetPilot
        elif unit is None and parent_unit is not None:
            unit = by_parent_name.get((parent_unit.pk, name))
            known = False
        else:
            known = unit is not None
        row.unit = unit
        if unit is None:
            row.action = Action.CREATE
        else:
            if known and parent_dept is not None and unit.name != name:
                row.changes.append(_("name %(old)s → %(new)s") % {"old": unit.name, "new": name})
            if parent_dept is not None and (
                parent_unit is None or unit.parent_id != parent_unit.pk
            ):
                row.changes.append(_("moves under %(parent)s") % {"parent": parent_row.name})
            row.action = Action.UPDATE if row.changes else Action.MATCH
        rows[dept_id] = row
    people = _plan_people(directory, rows)
    return ContactsPlan(units=list(rows.values()), people=people)


def _team_of(user: dict[str, Any], directory: _Directory) -> int | None:
    teams = [
        int(d)
        for d in user.get("dept_id_list") or []
        if int(d) in directory.depth and directory.depth[int(d)] >= 2
    ]
    return max(teams, key=lambda d: (directory.depth[d], -d)) if teams else None


def _plan_people(directory: _Directory, units: dict[int, UnitRow]) -> list[PersonRow]:
    users = list(User.objects.select_related("team"))
    by_userid = {u.dingtalk_userid: u for u in users if u.dingtalk_userid}
    by_email = {u.email.lower(): u for u in users if u.email}
    by_username = {u.username.lower(): u for u in users}
    taken_usernames = set(by_username)
    claimed: set[int] = set()
    rows = []
    for raw in sorted(directory.users, key=lambda u: str(u.get("userid"))):
        userid = str(raw["userid"])
        email, bad_email = _email(raw)
        team_dept = _team_of(raw, directory)
        row = PersonRow(
            userid=userid,
            name=str(raw.get("name") or "")[:120],
            email=email,
            team_dept=team_dept,
            team_name=units[team_dept].name if team_dept else "",
        )
        if bad_email:
            row.notes.append(_("e-mail %(email)s left out: not an address") % {"email": bad_email})
        user = (
            by_userid.get(userid)
            or (by_email.get(email.lower()) if email else None)
            or by_username.get(userid.lower())
        )
        if user is not None and (
            user.pk in claimed or (user.dingtalk_userid and user.dingtalk_userid != userid)
        ):
            row.action = Action.SKIP
            row.user = user
            row.changes.append(
                _("%(user)s is already another DingTalk user.") % {"user": user.username}
            )
            rows.append(row)
            continue
        if user is None:
            row.username = _new_username(userid, email, taken_usernames)
            taken_usernames.add(row.username.lower())
            row.action = Action.CREATE
        else:
            claimed.add(user.pk)
            row.user, row.username = user, user.username
            if user.dingtalk_userid != userid:
                row.changes.append(_("linked to DingTalk"))
            if row.name and user.display_name != row.name:
                row.changes.append(_("name → %(name)s") % {"name": row.name})
            if email and user.email.lower() != email.lower():
                row.changes.append(_("e-mail → %(email)s") % {"email": email})
            team_unit = units[team_dept].unit if team_dept else None
            if team_dept and (team_unit is None or user.team_id != team_unit.pk):
                row.changes.append(_("team → %(team)s") % {"team": row.team_name})
            row.action = Action.UPDATE if row.changes else Action.MATCH
        rows.append(row)
    return rows


def _email(raw: dict[str, Any]) -> tuple[str, str]:
    """The person's address, or ("", the bad value) when DingTalk's is no address."""
    email = str(raw.get("email") or raw.get("org_email") or "").strip()
    if not email:
        return "", ""
    try:
        validate_email(email)
    except ValidationError:
        return "", email
    return email, ""


def _new_username(userid: str, email: str, taken: set[str]) -> str:
    for candidate in (userid, email):
        if candidate and USERNAME.match(candidate) and candidate.lower() not in taken:
            return candidate
    base = "dt_" + re.sub(r"[^\w.@+-]", "_", userid)[:140]
    candidate, n = base, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{base}_{n}"
    return candidate


def contacts_preview(*, connection: Connection) -> ContactsPlan:
    """What an import would do, read from DingTalk; nothing is written."""
    return _plan(connection, _fetch(DingTalkClient(connection)))


def contacts_apply(*, connection: Connection) -> ContactsResult:
    """Import DingTalk's contacts: the preview's plan, applied in one transaction."""
    directory = _fetch(DingTalkClient(connection))
    with transaction.atomic():
        plan = _plan(connection, directory)
        units: dict[int, OrgUnit] = {}
        created = updated = 0
        for row in plan.units:
            parent = units.get(row.parent_dept) if row.parent_dept is not None else None
            if row.action == Action.CREATE:
                unit = target_services.org_unit_save(name=row.name, kind=row.kind, parent=parent)
                created += 1
            elif row.action == Action.UPDATE:
                unit = target_services.org_unit_save(
                    unit=row.unit, name=row.name, kind=row.unit.kind, parent=parent
                )
                updated += 1
            else:
                unit = row.unit
            units[row.dept_id] = unit
            DingTalkDepartment.objects.update_or_create(
                connection=connection, dept_id=row.dept_id, defaults={"unit": unit}
            )
        people_created = people_updated = 0
        for person in plan.people:
            team = units.get(person.team_dept) if person.team_dept else None
            if person.action == Action.CREATE:
                target_services.user_save(
                    username=person.username,
                    display_name=person.name,
                    email=person.email,
                    team=team,
                    roles=[target_services.RoleGrant(role=Role.REP, unit=team)] if team else [],
                    dingtalk_userid=person.userid,
                )
                people_created += 1
            elif person.action == Action.UPDATE:
                user = person.user
                target_services.user_save(
                    user=user,
                    username=user.username,
                    display_name=person.name or user.display_name,
                    email=person.email or user.email,
                    team=team if team is not None else user.team,
                    language=user.language,
                    dingtalk_userid=person.userid,
                )
                people_updated += 1
    return ContactsResult(
        units_created=created,
        units_updated=updated,
        people_created=people_created,
        people_updated=people_updated,
    )
