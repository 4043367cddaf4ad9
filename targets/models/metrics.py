"""Process metrics (SPEC §1, §6, §7): admin-defined leading indicators with weekly values.

A metric is data, never code: its unit, aggregation and direction say how its values are
read; an optional declarative derivation (count / duration / sum over a synced record type,
with filters) is chosen from the fixed whitelist in `targets.metric_fields`.

Thresholds. `warn_at` and `alert_at` are percentages of the weekly plan by which a rep's
week falls short *in the metric's bad direction*:

    shortfall = (plan − value) / plan × 100   for a higher-is-better metric
    shortfall = (value − plan) / plan × 100   for a lower-is-better metric

A week is at "warn" once shortfall ≥ warn_at and at "alert" once shortfall ≥ alert_at
(reaching the threshold counts); warn_at < alert_at. Doing better than plan is never a
shortfall. Either may be left empty (that level is not watched).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from targets.money import MONEY

METRIC_PREFIX = "metric:"


class MetricCategory(models.TextChoices):
    MARKET = "market", _("Market data")
    CUSTOMER = "customer", _("Customer feedback")
    CAPACITY = "capacity", _("Team capacity")
    PROCESS = "process", _("Sales process")


class MetricUnit(models.TextChoices):
    COUNT = "count", _("Count")
    PERCENT = "percent", _("Percent")
    DAYS = "days", _("Days")
    CNY = "cny", _("CNY")


class MetricAggregation(models.TextChoices):
    """How weeks (and reps) add up: a month's actual, a unit's week."""

    SUM = "sum", _("Sum")
    AVG = "avg", _("Average")
    LATEST = "latest", _("Latest")


class MetricDirection(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    LOWER = "lower", _("Lower is better")


class DerivationKind(models.TextChoices):
    NONE = "none", _("Entered or imported (not derived)")
    COUNT = "count", _("Count of records")
    DURATION = "duration", _("Days between two dates")
    SUM = "sum", _("Sum of a number field")


class RecordType(models.TextChoices):
    DEALS = "deals", _("Deals (opportunities)")
    ACTIVITIES = "activities", _("Activities (follow-ups)")


class Metric(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    category = models.CharField(_("category"), max_length=10, choices=MetricCategory.choices)
    unit = models.CharField(_("unit"), max_length=10, choices=MetricUnit.choices)
    aggregation = models.CharField(
        _("aggregation"), max_length=10, choices=MetricAggregation.choices
    )
    direction = models.CharField(
        _("direction"),
        max_length=10,
        choices=MetricDirection.choices,
        default=MetricDirection.HIGHER,
    )
    weekly_plan = models.DecimalField(_("weekly plan per rep"), **MONEY)
    key = models.BooleanField(
        _("key indicator"),
        default=False,
        help_text=_("Key metrics join the deviation trigger and raise threshold alerts."),
    )
    warn_at = models.DecimalField(
        _("warn at (short of plan, %)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    alert_at = models.DecimalField(
        _("alert at (short of plan, %)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    active = models.BooleanField(_("active"), default=True)
    derivation = models.CharField(
        _("derivation"), max_length=10, choices=DerivationKind.choices, default=DerivationKind.NONE
    )
    record_type = models.CharField(
        _("record type"), max_length=12, choices=RecordType.choices, blank=True
    )
    # count: unused; sum: the number field; duration: from field → to field (dates).
    field = models.CharField(_("field"), max_length=40, blank=True)
    field_to = models.CharField(_("to field"), max_length=40, blank=True)
    # [{"field": "completed", "op": "eq", "value": true}, …], names from the whitelist.
    filters = models.JSONField(_("filters"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("process metric")
        verbose_name_plural = _("process metrics")
        ordering = ["category", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekly_plan__gte=0), name="metric_plan_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(warn_at__isnull=True)
                | Q(alert_at__isnull=True)
                | Q(warn_at__lt=models.F("alert_at")),
                name="metric_warn_below_alert",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def measure(self) -> str:
        return f"{METRIC_PREFIX}{self.code}"

    @property
    def is_derived(self) -> bool:
        return self.derivation != DerivationKind.NONE

    @property
    def lower_is_better(self) -> bool:
        return self.direction == MetricDirection.LOWER


class MetricValueSource(models.TextChoices):
    MANUAL = "manual", _("Manual entry")
    IMPORT = "import", _("Import")
    DERIVED = "derived", _("Derived from synced records")


class MetricValue(models.Model):
    """One rep's value of one metric for one ISO week, with its provenance.

    A rep's own manual entry counts (figures, deviations, alerts) once a manager over them
    confirms it; a manager's entry for a rep, an import or a derivation counts at once.
    """

    metric = models.ForeignKey(
        Metric, verbose_name=_("metric"), on_delete=models.CASCADE, related_name="values"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rep"),
        on_delete=models.CASCADE,
        related_name="metric_values",
    )
    week_start = models.DateField(_("week start (Monday)"))
    week = models.CharField(_("week"), max_length=8, help_text=_("An ISO week, e.g. 2025-W20."))
    value = models.DecimalField(_("value"), **MONEY)
    source = models.CharField(_("source"), max_length=10, choices=MetricValueSource.choices)
    counts = models.BooleanField(_("counts"), default=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("metric value")
        verbose_name_plural = _("metric values")
        ordering = ["-week_start", "metric_id", "user_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "user", "week_start"], name="metric_value_once_per_week"
            )
        ]
        indexes = [models.Index(fields=["metric", "week_start"])]

    def __str__(self) -> str:
        return f"{self.metric.code} {self.user} {self.week}: {self.value}"

    @property
    def needs_confirmation(self) -> bool:
        return not self.counts and self.confirmed_by_id is None


class Activity(models.Model):
    """A synced CRM activity (a call, visit, meeting): what follow-up metrics count.

    Written only by syncs and imports through `activities_bulk_upsert`.
    """

    source = models.CharField(_("source"), max_length=20)
    external_id = models.CharField(_("external id"), max_length=64)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="activities",
    )
    account = models.CharField(_("account"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=40, blank=True)
    occurred_on = models.DateField(_("date"))
    completed = models.BooleanField(_("completed"), default=False)
    key_account = models.BooleanField(_("key account"), default=False)
    data = models.JSONField(_("other fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-occurred_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="activity_unique_per_source"
            )
        ]
        indexes = [models.Index(fields=["owner", "occurred_on"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.account} {self.occurred_on}"
