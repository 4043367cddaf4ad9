"""Raw deal rows (webhook JSON, CSV/XLSX lines) → validated `DealRecord`s or per-row errors.

Rows are checked a batch at a time: the owners and split users of a batch are looked up in
one query, so a file of any length costs a fixed number of queries per batch. Duplicate
external ids are caught across the whole input (the later row is refused, naming the first).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from targets.models import User
from targets.services import Split, validate_deal_fields, validate_splits

from .upsert import BATCH_SIZE, DealRecord

# Column names a file may use, Chinese exports included, for each field.
ALIASES = {
    "external_id": ("external_id", "id", "deal_id", "外部编号", "编号", "商机编号"),
    "account": ("account", "customer", "客户", "客户名称"),
    "owner": ("owner", "owner_id", "负责人"),
    "owner_email": ("owner_email", "email", "负责人邮箱", "邮箱"),
    "amount": ("amount", "金额"),
    "stage": ("stage", "阶段"),
    "won": ("won", "赢单", "是否赢单"),
    "close_date": ("close_date", "成交日期", "关闭日期"),
    "created_date": ("created_date", "createddate", "创建日期", "商机创建日期"),
    "splits": ("splits", "分成"),
}
COLUMN_OF = {alias.lower(): name for name, aliases in ALIASES.items() for alias in aliases}

TRUE = {"1", "true", "yes", "y", "t", "是", "赢单", "won"}
FALSE = {"0", "false", "no", "n", "f", "否", "输单", "lost"}


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class Checked:
    row: int
    record: DealRecord | None
    errors: tuple[RowError, ...] = ()
    unmapped_owner: str | None = None


def normalise_header(names: Iterable[Any]) -> list[str | None]:
    """The field each column holds (None for columns we do not read)."""
    return [COLUMN_OF.get(str(n or "").strip().lower()) for n in names]


def check_rows(
    rows: Iterable[tuple[int, dict[str, Any]]], people: People | None = None
) -> Iterator[Checked]:
    """Validate `(row number, raw fields)` pairs, streaming. Without `people`, the users the
    rows name are looked up a batch at a time; with it (`People.everyone()`) no query is
    made, so the rows can be checked in a thread that must not use the database."""
    seen: dict[str, int] = {}
    if people is not None:
        for number, raw in rows:
            yield _check(number, raw, people, seen)
        return
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH_SIZE)):
        batch_people = People.named_in(raw for _number, raw in batch)
        for number, raw in batch:
            yield _check(number, raw, batch_people, seen)


def ids_by_email(pairs: Iterable[tuple[int, str]]) -> dict[str, int | None]:
    """(user id, lower-cased e-mail) pairs → e-mail → id; None for an e-mail several users
    share, which names nobody."""
    by_email: dict[str, int | None] = {}
    for pk, email in pairs:
        by_email[email] = None if email in by_email else pk
    return by_email


class People:
    """Users by id, and by lower-cased e-mail (None when two users share it)."""

    def __init__(self, ids: set[int], emails: dict[str, int | None]) -> None:
        self.ids = ids
        self.emails = emails

    @classmethod
    def everyone(cls) -> People:
        """Every user, in one query: for a large file, cheaper than a query per batch."""
        users = list(
            User.objects.annotate(email_lower=Lower("email")).values_list("pk", "email_lower")
        )
        return cls({pk for pk, _email in users}, ids_by_email(u for u in users if u[1]))

    @classmethod
    def named_in(cls, raws: Iterable[dict[str, Any]]) -> People:
        """The users `raws` name as owners or split users, in at most two queries."""
        ids: set[int] = set()
        emails: set[str] = set()
        for raw in raws:
            for ref in [raw.get("owner"), *(_split_users(raw.get("splits")))]:
                as_id = _as_id(ref)
                if as_id is not None:
                    ids.add(as_id)
                elif isinstance(ref, str) and "@" in ref:
                    emails.add(ref.strip().lower())
            email = raw.get("owner_email")
            if isinstance(email, str) and email.strip():
                emails.add(email.strip().lower())
        found_ids = (
            set(User.objects.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
        )
        by_email = (
            ids_by_email(
                User.objects.annotate(email_lower=Lower("email"))
                .filter(email_lower__in=emails)
                .values_list("pk", "email_lower")
            )
            if emails
            else {}
        )
        return cls(found_ids, by_email)


def _split_users(splits: Any) -> list[Any]:
    if isinstance(splits, list):
        return [s.get("user") for s in splits if isinstance(s, dict)]
    if isinstance(splits, str):
        return [part.split(":")[0].strip() for part in splits.split(";") if ":" in part]
    return []


def _as_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**63 else None
    if isinstance(value, float) and value.is_integer():
        return int(value) if 0 < value < 2**63 else None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 19:
        return int(value.strip()) or None
    return None


def _resolve(ref: Any, people: People) -> int | str | None:
    """A user id, or a message why not."""
    as_id = _as_id(ref)
    if as_id is not None:
        return as_id if as_id in people.ids else _("No user with id %(id)s.") % {"id": as_id}
    if isinstance(ref, str) and "@" in ref:
        key = ref.strip().lower()
        if key not in people.emails:
            return _("No user with the e-mail %(email)s.") % {"email": ref.strip()}
        if people.emails[key] is None:
            return _("Several users share the e-mail %(email)s.") % {"email": ref.strip()}
        return people.emails[key]
    return None


def _check(number: int, raw: dict[str, Any], people: People, seen: dict[str, int]) -> Checked:
    errors: list[RowError] = []

    def bad(field: str, message: str) -> None:
        errors.append(RowError(number, field, message))

    external_id = _text(raw.get("external_id"))
    account = _text(raw.get("account"))
    if len(external_id) > 64:
        bad("external_id", _("At most 64 characters."))
    if len(account) > 200:
        bad("account", _("At most 200 characters."))
    stage = _text(raw.get("stage"))[:60]

    amount = _amount(raw.get("amount"))
    if amount is None:
        bad("amount", _("Give the amount as a number, e.g. 120000.50."))
    close_date = _date(raw.get("close_date"))
    if close_date is None:
        bad("close_date", _("Give the close date as YYYY-MM-DD."))
    created_date = None
    if raw.get("created_date") not in (None, ""):
        created_date = _date(raw.get("created_date"))
        if created_date is None:
            bad("created_date", _("Give the created date as YYYY-MM-DD."))
    won = _bool(raw.get("won"))
    if won is None:
        bad("won", _("Write won as true or false."))

    owner_ref = raw.get("owner")
    if owner_ref in (None, ""):
        owner_ref = raw.get("owner_email")
    unmapped = None
    owner = _resolve(owner_ref, people)
    if owner is None:
        bad("owner", _("Name the owner by user id or e-mail."))
    elif isinstance(owner, str):
        bad("owner", owner)
        unmapped = str(owner_ref).strip()

    splits = _splits(raw.get("splits"), people, bad)

    if amount is not None:
        try:
            validate_deal_fields(amount=amount, external_id=external_id, account=account)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                for message in messages:
                    bad(field, message)
    elif not external_id:
        bad("external_id", _("The external id cannot be empty."))

    if external_id and not any(e.field == "external_id" for e in errors):
        if external_id in seen:
            bad(
                "external_id",
                _("%(id)s appears twice (also on row %(other)s).")
                % {"id": external_id, "other": seen[external_id]},
            )
        else:
            seen[external_id] = number

    if errors:
        return Checked(number, None, tuple(errors), unmapped)
    return Checked(
        number,
        DealRecord(
            external_id=external_id,
            account=account,
            owner_id=owner,  # type: ignore[arg-type]
            amount=amount,  # type: ignore[arg-type]
            close_date=close_date,  # type: ignore[arg-type]
            won=won,  # type: ignore[arg-type]
            stage=stage,
            splits=splits,
            source_created_at=created_date,
        ),
    )


def _splits(value: Any, people: People, bad) -> tuple[tuple[int, Decimal], ...] | None:
    if value in (None, "", []):
        return None
    pairs: list[tuple[Any, Any]] = []
    if isinstance(value, list) and all(isinstance(s, dict) for s in value):
        pairs = [(s.get("user"), s.get("percent")) for s in value]
    elif isinstance(value, str):
        # In a file: "user:percent;user:percent", users by id or e-mail.
        parts = [p.split(":", 1) for p in value.split(";") if p.strip()]
        if any(len(p) != 2 for p in parts):
            bad("splits", _("Write splits as user:percent;user:percent."))
            return None
        pairs = [(u.strip(), p.strip()) for u, p in parts]
    else:
        bad("splits", _("Give splits as a list of {user, percent}."))
        return None
    resolved: list[tuple[int, Decimal]] = []
    for user_ref, percent_raw in pairs:
        user = _resolve(user_ref, people)
        percent = _amount(percent_raw)
        if user is None or isinstance(user, str):
            bad("splits", user or _("Name each split's user by id or e-mail."))
            return None
        if percent is None:
            bad("splits", _("Each share must be a number of percent."))
            return None
        resolved.append((user, percent))
    try:
        validate_splits([Split(User(pk=user), percent) for user, percent in resolved])
    except ValidationError as error:
        for message in error.message_dict.get("splits", []):
            bad("splits", message)
        return None
    return tuple(resolved)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets store numeric ids as floats
    return str(value).strip()


_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = str(value).strip().replace(",", "").replace("¥", "").replace("￥", "")
    if not _NUMBER.match(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value).replace("/", "-")
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _bool(value: Any) -> bool | None:
    if value is None or value == "":
        return True  # a deal in an actuals file is won unless it says otherwise
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    return None
