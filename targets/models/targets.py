from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from targets.money import MONEY
from targets.periods import EQUAL_THIRDS, Quarter

from .org import OrgUnit

WEIGHT = {"max_digits": 7, "decimal_places": 6}


class Measure(models.TextChoices):
    """Built-in measures; a process metric is the measure `metric:<code>` (SPEC §3)."""

    REVENUE = "revenue", _("Revenue (won-deal amount, CNY)")


_MEASURE_RE = re.compile(r"^metric:[-a-zA-Z0-9_]{1,32}$")


def validate_measure(value: str) -> None:
    if value == Measure.REVENUE or _MEASURE_RE.match(value or ""):
        return
    raise ValidationError(
        _("A measure is 'revenue' or 'metric:<code>' of a process metric."), code="invalid"
    )


class Target(models.Model):
    """A quarter's Base + Stretch for one owner (an org unit or a rep) and one measure."""

    period = models.CharField(_("period"), max_length=6, help_text=_("A quarter, e.g. 2025Q2."))
    # The period's bounds are stored so figures can join deals by date in SQL.
    period_start = models.DateField(_("period start"), editable=False)
    period_end = models.DateField(_("period end"), editable=False)
    measure = models.CharField(
        _("measure"), max_length=50, default=Measure.REVENUE, validators=[validate_measure]
    )
    owner_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("owner unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
    )
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner rep"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
    )
    # The root unit whose settings (status thresholds) apply.
    company = models.ForeignKey(
        OrgUnit,
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="company_targets",
        editable=False,
    )
    base = models.DecimalField(_("base"), **MONEY)
    stretch = models.DecimalField(_("stretch"), **MONEY)
    original_base = models.DecimalField(_("original base"), editable=False, **MONEY)
    original_stretch = models.DecimalField(_("original stretch"), editable=False, **MONEY)
    weight_m1 = models.DecimalField(_("month 1 weight"), null=True, blank=True, **WEIGHT)
    weight_m2 = models.DecimalField(_("month 2 weight"), null=True, blank=True, **WEIGHT)
    weight_m3 = models.DecimalField(_("month 3 weight"), null=True, blank=True, **WEIGHT)
    base_bonus = models.DecimalField(_("base bonus"), null=True, blank=True, **MONEY)
    stretch_bonus = models.DecimalField(_("stretch bonus"), null=True, blank=True, **MONEY)
    # Bumped by every write; a writer that read an older one is told 409 (SPEC §10).
    version = models.PositiveIntegerField(_("version"), default=1, db_default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Audit (issue 6 §7): who changed what, when, before and after.
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["period_start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(base__gte=0), name="target_base_not_negative"),
            models.CheckConstraint(
                condition=Q(stretch__gte=F("base")), name="target_stretch_not_below_base"
            ),
            models.CheckConstraint(
                condition=(Q(owner_unit__isnull=False) & Q(owner_user__isnull=True))
                | (Q(owner_unit__isnull=True) & Q(owner_user__isnull=False)),
                name="target_has_exactly_one_owner",
            ),
            models.UniqueConstraint(
                fields=["owner_unit", "period", "measure"],
                condition=Q(owner_unit__isnull=False),
                name="one_unit_target_per_period_measure",
            ),
            models.UniqueConstraint(
                fields=["owner_user", "period", "measure"],
                condition=Q(owner_user__isnull=False),
                name="one_rep_target_per_period_measure",
            ),
        ]
        indexes = [models.Index(fields=["period", "measure"])]

    def __str__(self) -> str:
        return f"{self.owner_unit or self.owner_user} {self.period}"

    @property
    def quarter(self) -> Quarter:
        return Quarter.parse(self.period)

    @property
    def weights(self) -> tuple:
        if self.weight_m1 is None:
            return EQUAL_THIRDS
        return (self.weight_m1, self.weight_m2, self.weight_m3)

    @property
    def phasing(self) -> list[Decimal] | None:
        if self.weight_m1 is None:
            return None
        return [self.weight_m1, self.weight_m2, self.weight_m3]

    @property
    def owner_name(self) -> str:
        return str(self.owner_unit or self.owner_user)

    def is_locked(self, today: date) -> bool:
        """Amounts are fixed once the period has started (SPEC §3)."""
        return today >= self.period_start


class TargetRevision(models.Model):
    """One approved change of a target's amounts; the history is never overwritten."""

    target = models.ForeignKey(
        Target, verbose_name=_("target"), on_delete=models.CASCADE, related_name="revisions"
    )
    base_before = models.DecimalField(_("base before"), **MONEY)
    stretch_before = models.DecimalField(_("stretch before"), **MONEY)
    base_after = models.DecimalField(_("base after"), **MONEY)
    stretch_after = models.DecimalField(_("stretch after"), **MONEY)
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"))
    history = HistoricalRecords()
    # The proposal that caused it points here (reviews.Proposal.revision): the core app
    # knows nothing of the apps built on it.

    class Meta:
        verbose_name = _("target revision")
        verbose_name_plural = _("target revisions")
        ordering = ["decided_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(base_after__gte=0) & Q(stretch_after__gte=F("base_after")),
                name="revision_amounts_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.target} @ {self.decided_at:%Y-%m-%d}"
