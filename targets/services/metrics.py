"""Process-metric writes: definitions, weekly values (manual, import, derived), activities.

Every change of counting values announces `metric_values_changed` once committed, so the
apps built on the core (alerts) evaluate thresholds without the core importing them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from targets.errors import StateConflict, ValidationError, field_error
from targets.metric_fields import RECORDS, derivation_clean, filter_kwargs
from targets.models import (
    Activity,
    DerivationKind,
    Metric,
    MetricAggregation,
    MetricUnit,
    MetricValue,
    MetricValueSource,
    Role,
    RoleAssignment,
    Target,
    User,
)
from targets.money import MAX_AMOUNT
from targets.periods import IsoWeek, PeriodError, Quarter
from targets.recompute import recompute_soon
from targets.signals import metric_values_changed

# Weeks a derivation (re)computes after each sync: a quarter and its first week.
DERIVED_WEEKS = 13

METRIC_FIELDS = (
    "code",
    "name",
    "name_en",
    "category",
    "unit",
    "aggregation",
    "direction",
    "weekly_plan",
    "key",
    "warn_at",
    "alert_at",
    "active",
    "derivation",
    "record_type",
    "field",
    "field_to",
    "filters",
)


def _announce(metric_ids: Iterable[int]) -> None:
    ids = sorted(set(metric_ids))
    if not ids:
        return
    transaction.on_commit(
        lambda: metric_values_changed.send(sender=MetricValue, metric_ids=ids), robust=True
    )
    recompute_soon()


# Definitions ---------------------------------------------------------------------------


def _metric_apply(metric: Metric, fields: Mapping[str, Any]) -> Metric:
    unknown = set(fields) - set(METRIC_FIELDS)
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    for name, value in fields.items():
        setattr(metric, name, value)
    if metric.derivation == DerivationKind.NONE:
        metric.record_type, metric.field, metric.field_to = "", "", ""
    elif metric.derivation == DerivationKind.COUNT:
        metric.field, metric.field_to = "", ""
    elif metric.derivation == DerivationKind.SUM:
        metric.field_to = ""
    metric.filters = derivation_clean(
        derivation=metric.derivation,
        record_type=metric.record_type,
        field=metric.field,
        field_to=metric.field_to,
        filters=metric.filters if metric.filters is not None else [],
    )
    errors: dict[str, list[str]] = {}
    for name in ("warn_at", "alert_at"):
        value = getattr(metric, name)
        if value is not None and value < 0:
            errors[name] = [_("A threshold is a percentage ≥ 0.")]
    if (
        metric.warn_at is not None
        and metric.alert_at is not None
        and not errors
        and metric.warn_at >= metric.alert_at
    ):
        errors["alert_at"] = [_("The alert threshold must be above the warning threshold.")]
    if metric.weekly_plan is not None and metric.weekly_plan < 0:
        errors["weekly_plan"] = [_("The weekly plan cannot be negative.")]
    if errors:
        raise ValidationError(errors)
    metric.full_clean()
    metric.save()
    return metric


@transaction.atomic
def metric_create(*, fields: Mapping[str, Any]) -> Metric:
    return _metric_apply(Metric(), fields)


@transaction.atomic
def metric_update(*, metric: Metric, fields: Mapping[str, Any]) -> Metric:
    if "code" in fields and fields["code"] != metric.code and metric.values.exists():
        raise field_error("code", _("A metric with values keeps its code."))
    return _metric_apply(metric, fields)


def metric_delete(*, metric: Metric) -> None:
    """Targets set on the metric keep it: deleting it would leave them without actuals
    (deactivate it instead)."""
    if Target.objects.filter(measure=metric.measure).exists():
        raise StateConflict(_("Targets are set on this metric; deactivate it instead."))
    metric.delete()


# Values --------------------------------------------------------------------------------


def metric_week_range(today: date | None = None) -> tuple[IsoWeek, IsoWeek]:
    """Weeks a value may be entered for: from the previous quarter's first week through
    the current one (older history comes by import)."""
    today = today or timezone.localdate()
    return IsoWeek.of(Quarter.of(today).previous().start), IsoWeek.of(today)


def metric_value_parse(*, metric: Metric, raw) -> Decimal:
    """A number valid for the metric's unit, or a ValidationError on `value`."""
    if isinstance(raw, bool) or raw is None or raw == "":
        raise field_error("value", _("Enter a number."))
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise field_error("value", _("'%(value)s' is not a number.") % {"value": raw}) from None
    if not value.is_finite() or abs(value) > MAX_AMOUNT:
        raise field_error("value", _("'%(value)s' is not a number.") % {"value": raw})
    if value != value.quantize(Decimal("0.01")):
        raise field_error("value", _("Use at most two decimal places."))
    if value < 0:
        raise field_error(
            "value", _("A %(unit)s value cannot be negative.") % {"unit": metric.get_unit_display()}
        )
    if metric.unit == MetricUnit.PERCENT and value > 100:
        raise field_error("value", _("A percentage is between 0 and 100."))
    if metric.unit == MetricUnit.COUNT and value != value.to_integral_value():
        raise field_error("value", _("A count is a whole number."))
    return value


def metric_week_parse(label: str, *, today: date | None = None) -> IsoWeek:
    try:
        week = IsoWeek.parse(str(label))
    except PeriodError as error:
        raise field_error("week", str(error)) from None
    first, last = metric_week_range(today)
    if not first.start <= week.start <= last.start:
        raise field_error(
            "week",
            _("Enter a week from %(first)s to %(last)s.") % {"first": first, "last": last},
        )
    return week


@transaction.atomic
def metric_value_enter(
    *, entered_by: User, metric: Metric, rep: User, week: str, value
) -> MetricValue:
    """A manual weekly value (the rep for themself, or a manager over the rep; the caller
    checked who). A rep's own entry counts once a manager confirms it; a manager's counts
    at once. Re-entering a week replaces a manual value; derived values are not entered."""
    if not metric.active:
        raise field_error("metric", _("This metric is inactive."))
    if metric.is_derived:
        raise field_error("metric", _("This metric is derived from synced records."))
    parsed_week = metric_week_parse(week)
    parsed = metric_value_parse(metric=metric, raw=value)
    existing = (
        MetricValue.objects.select_for_update()
        .filter(metric=metric, user=rep, week_start=parsed_week.start)
        .first()
    )
    if existing is not None and existing.source != MetricValueSource.MANUAL:
        raise field_error("week", _("This week's value came from an import; re-import it."))
    row = existing or MetricValue(metric=metric, user=rep, week_start=parsed_week.start)
    row.week = parsed_week.label
    row.value = parsed
    row.source = MetricValueSource.MANUAL
    row.entered_by = entered_by
    row.counts = entered_by.pk != rep.pk
    row.confirmed_by, row.confirmed_at = None, None
    row.save()
    if row.counts or existing is not None:
        _announce([metric.pk])
    return row


def metric_value_confirm(*, value: MetricValue, confirmed_by: User) -> MetricValue:
    """A manager confirms a rep's own entry, once; the author never (409 either way)."""
    if value.entered_by_id == confirmed_by.pk:
        raise StateConflict(_("The author of a value cannot confirm it."))
    with transaction.atomic():
        claimed = (
            MetricValue.objects.filter(
                pk=value.pk,
                source=MetricValueSource.MANUAL,
                counts=False,
                confirmed_by__isnull=True,
            )
            .exclude(entered_by=confirmed_by)
            .update(counts=True, confirmed_by=confirmed_by, confirmed_at=timezone.now())
        )
        if not claimed:
            raise StateConflict(_("This value needs no confirmation or is already confirmed."))
        _announce([value.metric_id])
    value.refresh_from_db()
    return value


@dataclass(frozen=True)
class ValueRow:
    metric_id: int
    user_id: int
    week: IsoWeek
    value: Decimal


def metric_values_bulk_upsert(
    *, rows: Sequence[ValueRow], source: str, entered_by: User | None = None
) -> tuple[int, int]:
    """Write imported values in one statement per batch; returns (created, updated)."""
    if not rows:
        return 0, 0
    with transaction.atomic():
        keys = {(r.metric_id, r.user_id, r.week.start) for r in rows}
        existing = set(
            MetricValue.objects.filter(
                metric__in={k[0] for k in keys},
                user__in={k[1] for k in keys},
                week_start__in={k[2] for k in keys},
            ).values_list("metric_id", "user_id", "week_start")
        )
        MetricValue.objects.bulk_create(
            [
                MetricValue(
                    metric_id=r.metric_id,
                    user_id=r.user_id,
                    week_start=r.week.start,
                    week=r.week.label,
                    value=r.value,
                    source=source,
                    counts=True,
                    entered_by=entered_by,
                )
                for r in rows
            ],
            update_conflicts=True,
            unique_fields=["metric", "user", "week_start"],
            update_fields=[
                "value",
                "source",
                "counts",
                "entered_by",
                "confirmed_by",
                "confirmed_at",
                "updated_at",
            ],
            batch_size=2000,
        )
        updated = len(keys & existing)
        _announce(r.metric_id for r in rows)
    return len(keys) - updated, updated


# Derivation ----------------------------------------------------------------------------


def _reps() -> list[int]:
    return list(
        RoleAssignment.objects.filter(role=Role.REP, user__is_active=True)
        .values_list("user_id", flat=True)
        .distinct()
    )


def _derived(metric: Metric, first: IsoWeek, last: IsoWeek) -> dict[tuple[int, date], Decimal]:
    """(rep, week start) → value, in one grouped statement over the record table."""
    spec = RECORDS[metric.record_type]
    anchor = metric.field_to if metric.derivation == DerivationKind.DURATION else spec.week_date
    include, exclude = filter_kwargs(metric.record_type, metric.filters)
    records = (
        spec.model.objects.filter(**{f"{anchor}__gte": first.start, f"{anchor}__lte": last.end})
        .filter(**include)
        .exclude(**exclude)
    )
    if metric.derivation == DerivationKind.DURATION:
        records = records.filter(**{f"{metric.field}__isnull": False})
        gap = ExpressionWrapper(F(anchor) - F(metric.field), output_field=DurationField())
        aggregate = Sum(gap) if metric.aggregation == MetricAggregation.SUM else Avg(gap)
    elif metric.derivation == DerivationKind.SUM:
        aggregate = Sum(metric.field)
    else:
        aggregate = Count("pk")
    grouped = (
        records.annotate(week_start=TruncWeek(anchor))
        .values(spec.owner, "week_start")
        .annotate(result=aggregate)
        .order_by()
    )
    result: dict[tuple[int, date], Decimal] = {}
    for row in grouped:
        value = row["result"]
        if value is None:
            continue
        if isinstance(value, timedelta):
            value = Decimal(value.total_seconds()) / Decimal(86400)
        week_start = row["week_start"]
        if hasattr(week_start, "date"):
            week_start = week_start.date()
        result[(row[spec.owner], week_start)] = Decimal(value).quantize(Decimal("0.01"))
    return result


@transaction.atomic
def metric_values_derive(
    *, metrics: Iterable[Metric] | None = None, today: date | None = None
) -> int:
    """Recompute every derived metric's values of the last `DERIVED_WEEKS` weeks.

    One grouped statement per metric (never one per rep); a count or sum gives every active
    rep a value for every week (zero counts too: no follow-ups is a finding), a duration only
    where records exist (no won deal that week is no data). Returns the values written.
    """
    today = today or timezone.localdate()
    last = IsoWeek.of(today)
    first = IsoWeek.of(last.start - timedelta(weeks=DERIVED_WEEKS - 1))
    weeks = [IsoWeek.of(first.start + timedelta(weeks=i)) for i in range(DERIVED_WEEKS)]
    if metrics is None:
        metrics = Metric.objects.filter(active=True).exclude(derivation=DerivationKind.NONE)
    reps: list[int] | None = None
    written, touched = 0, []
    for metric in metrics:
        values = _derived(metric, first, last)
        if metric.derivation != DerivationKind.DURATION:
            reps = _reps() if reps is None else reps
            for user_id in reps:
                for week in weeks:
                    values.setdefault((user_id, week.start), Decimal(0))
        # A record that left the filters (or the source) leaves no stale value behind.
        MetricValue.objects.filter(
            metric=metric, week_start__gte=first.start, source=MetricValueSource.DERIVED
        ).delete()
        rows = [
            MetricValue(
                metric=metric,
                user_id=user_id,
                week_start=week_start,
                week=IsoWeek.of(week_start).label,
                value=value,
                source=MetricValueSource.DERIVED,
                counts=True,
            )
            for (user_id, week_start), value in values.items()
        ]
        MetricValue.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["metric", "user", "week_start"],
            update_fields=["value", "source", "counts", "updated_at"],
            batch_size=2000,
        )
        written += len(rows)
        touched.append(metric.pk)
    if touched:
        transaction.on_commit(
            lambda: metric_values_changed.send(sender=MetricValue, metric_ids=touched),
            robust=True,
        )
    return written


# Activities ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityRecord:
    external_id: str
    owner_id: int
    occurred_on: date
    kind: str = ""
    account: str = ""
    completed: bool = False
    key_account: bool = False
    data: dict | None = None


def activities_bulk_upsert(*, source: str, records: Sequence[ActivityRecord]) -> int:
    """The one write path for synced activities: one multi-row upsert per batch."""
    Activity.objects.bulk_create(
        [
            Activity(
                source=source,
                external_id=r.external_id,
                owner_id=r.owner_id,
                occurred_on=r.occurred_on,
                kind=r.kind,
                account=r.account,
                completed=r.completed,
                key_account=r.key_account,
                data=r.data or {},
            )
            for r in records
        ],
        update_conflicts=True,
        unique_fields=["source", "external_id"],
        update_fields=[
            "owner",
            "occurred_on",
            "kind",
            "account",
            "completed",
            "key_account",
            "data",
        ],
        batch_size=2000,
    )
    return len(records)
