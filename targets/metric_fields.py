"""The synced fields a derived metric may name: a fixed whitelist, never code.

Each record type has an owner (the rep a value belongs to), a date that places a record in
a week (for a duration: its *to* field, e.g. deals won that week by close date), and typed
fields usable in filters, sums and durations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from targets.errors import ValidationError
from targets.models import Activity, Deal, DerivationKind, RecordType

TEXT, NUMBER, DATE, BOOL = "text", "number", "date", "bool"

OPERATORS = {
    "eq": gettext_lazy("equals"),
    "ne": gettext_lazy("is not"),
    "gt": gettext_lazy("greater than"),
    "gte": gettext_lazy("at least"),
    "lt": gettext_lazy("less than"),
    "lte": gettext_lazy("at most"),
}
ORDERED = {NUMBER, DATE}


@dataclass(frozen=True)
class RecordSpec:
    model: type
    owner: str
    week_date: str
    fields: dict[str, str]


RECORDS: dict[str, RecordSpec] = {
    RecordType.DEALS: RecordSpec(
        model=Deal,
        owner="owner_id",
        week_date="close_date",
        fields={
            "won": BOOL,
            "stage": TEXT,
            "account": TEXT,
            "source": TEXT,
            "amount": NUMBER,
            "close_date": DATE,
            "source_created_at": DATE,
        },
    ),
    RecordType.ACTIVITIES: RecordSpec(
        model=Activity,
        owner="owner_id",
        week_date="occurred_on",
        fields={
            "kind": TEXT,
            "account": TEXT,
            "completed": BOOL,
            "key_account": BOOL,
            "occurred_on": DATE,
        },
    ),
}

_TRUE = {True, "true", "1", "yes", "是"}
_FALSE = {False, "false", "0", "no", "否"}


def _typed(kind: str, raw) -> object:
    if kind == BOOL:
        value = raw.lower() if isinstance(raw, str) else raw
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ValueError
    if kind == NUMBER:
        if isinstance(raw, bool):
            raise ValueError
        try:
            number = Decimal(str(raw))
        except InvalidOperation:
            raise ValueError from None
        if not number.is_finite():
            raise ValueError
        return number
    if kind == DATE:
        return date.fromisoformat(str(raw))
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise ValueError
    return str(raw)[:200]


def derivation_clean(
    *, derivation: str, record_type: str, field: str, field_to: str, filters
) -> list[dict]:
    """Check a derived definition against the whitelist; returns the filters with typed
    values as stored (JSON). Raises a ValidationError naming the bad part."""
    if derivation == DerivationKind.NONE:
        if filters:
            raise ValidationError({"filters": [_("Only a derived metric has filters.")]})
        return []
    spec = RECORDS.get(record_type)
    if spec is None:
        raise ValidationError({"record_type": [_("Choose the record type to derive from.")]})

    def known(name: str, key: str, *kinds: str) -> None:
        kind = spec.fields.get(name)
        if kind is None:
            raise ValidationError(
                {
                    key: [
                        _("%(record)s have no field '%(field)s'; choose one of: %(fields)s.")
                        % {
                            "record": RecordType(record_type).label,
                            "field": name,
                            "fields": ", ".join(
                                n for n, k in spec.fields.items() if not kinds or k in kinds
                            ),
                        }
                    ]
                }
            )
        if kinds and kind not in kinds:
            raise ValidationError(
                {
                    key: [
                        _("Field '%(field)s' is not a %(kind)s field.")
                        % {"field": name, "kind": kinds[0]}
                    ]
                }
            )

    if derivation == DerivationKind.SUM:
        known(field, "field", NUMBER)
    elif derivation == DerivationKind.DURATION:
        known(field, "field", DATE)
        known(field_to, "field_to", DATE)
        if field == field_to:
            raise ValidationError({"field_to": [_("Choose two different date fields.")]})
    if not isinstance(filters, list):
        raise ValidationError({"filters": [_("Filters are a list of field, operator, value.")]})
    cleaned = []
    for number, item in enumerate(filters, start=1):
        if not isinstance(item, dict) or set(item) - {"field", "op", "value"}:
            raise ValidationError(
                {"filters": [_("Filter %(n)s: give field, op and value.") % {"n": number}]}
            )
        name, op = item.get("field"), item.get("op", "eq")
        known(str(name), "filters")
        kind = spec.fields[name]
        if op not in OPERATORS or (op not in ("eq", "ne") and kind not in ORDERED):
            raise ValidationError(
                {
                    "filters": [
                        _("Filter %(n)s: operator '%(op)s' does not apply to %(field)s.")
                        % {"n": number, "op": op, "field": name}
                    ]
                }
            )
        try:
            value = _typed(kind, item.get("value"))
        except (TypeError, ValueError):
            raise ValidationError(
                {
                    "filters": [
                        _("Filter %(n)s: '%(value)s' is not a valid %(kind)s value.")
                        % {"n": number, "value": item.get("value"), "kind": kind}
                    ]
                }
            ) from None
        stored = str(value) if isinstance(value, Decimal | date) else value
        cleaned.append({"field": name, "op": op, "value": stored})
    return cleaned


def filter_kwargs(record_type: str, filters: list[dict]) -> tuple[dict, dict]:
    """Stored filters → (filter kwargs, exclude kwargs) for the record model's queryset."""
    spec = RECORDS[record_type]
    include, exclude = {}, {}
    for item in filters:
        value = _typed(spec.fields[item["field"]], item["value"])
        if item["op"] == "eq":
            include[item["field"]] = value
        elif item["op"] == "ne":
            exclude[item["field"]] = value
        else:
            include[f"{item['field']}__{item['op']}"] = value
    return include, exclude
