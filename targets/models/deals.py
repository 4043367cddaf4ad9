from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from targets.money import MONEY


class DealSource(models.TextChoices):
    SALESFORCE = "salesforce", "Salesforce"
    ERP = "erp", "ERP"
    CSV = "csv", _("CSV / Excel import")
    MANUAL = "manual", _("Manual entry")


class Deal(models.Model):
    """A customer project / opportunity, as known to its source system."""

    source = models.CharField(_("source"), max_length=20, choices=DealSource.choices)
    external_id = models.CharField(_("external id"), max_length=64)
    account = models.CharField(_("account"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_deals",
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    stage = models.CharField(_("stage"), max_length=60, blank=True)
    won = models.BooleanField(_("won"), default=False)
    close_date = models.DateField(_("close date"))
    # When the source created the opportunity (Salesforce CreatedDate), when it says so:
    # the start of the conversion cycle a derived metric measures.
    source_created_at = models.DateField(_("created at source"), null=True, blank=True)
    source_modified_at = models.DateTimeField(_("last modified at source"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_index=False,  # a partial index in Meta: synced deals never have one
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_index=False,  # a partial index in Meta: synced deals never have one
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Audit (issue 6 §7): manual entries, confirmations and changes by sync, with who did it.
    # Credits are not tracked: they are derived from the deal (bulk-written, no signals).
    history = HistoricalRecords(excluded_fields=["updated_at", "source_modified_at"])

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["-close_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="deal_unique_per_source"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_not_negative"),
        ]
        # Only manual deals have these: a bulk sync writes no entry to either index.
        indexes = [
            models.Index(
                fields=["created_by"],
                condition=Q(created_by__isnull=False),
                name="deal_created_by_idx",
            ),
            models.Index(
                fields=["confirmed_by"],
                condition=Q(confirmed_by__isnull=False),
                name="deal_confirmed_by_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} ({self.get_source_display()} {self.external_id})"

    @property
    def is_manual(self) -> bool:
        return self.source == DealSource.MANUAL

    @property
    def confirmed(self) -> bool:
        """Only manual entries need a second person's confirmation (SPEC §4)."""
        return not self.is_manual or self.confirmed_by_id is not None


class Credit(models.Model):
    """A rep's share of a deal: the fact row every actual is summed from.

    The deal's date and countability are copied here so that actuals are one scan of
    one table; `deal_save_credits` keeps them in step with the deal.
    """

    deal = models.ForeignKey(
        Deal,
        verbose_name=_("deal"),
        on_delete=models.CASCADE,
        related_name="credits",
        # credit_one_per_rep_per_deal (deal, user) serves lookups by deal: a second index
        # would only slow every bulk write.
        db_index=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rep"),
        on_delete=models.PROTECT,
        related_name="credits",
    )
    # The rep's team on the close date (SPEC §2): unit roll-ups follow it, not today's team.
    team = models.ForeignKey(
        "targets.OrgUnit",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    percent = models.DecimalField(_("percent"), max_digits=5, decimal_places=2)
    # Whole cents: sums are exact on every database (SQLite sums decimals as floats).
    amount_cents = models.BigIntegerField(_("credited amount (cents)"))
    close_date = models.DateField(_("close date"))
    close_month = models.DateField(
        _("close month"), help_text=_("First day of the close date's month.")
    )
    counts = models.BooleanField(_("counts"), help_text=_("Won, and confirmed when manual."))

    class Meta:
        verbose_name = _("credit split")
        verbose_name_plural = _("credit splits")
        ordering = ["-percent", "id"]
        constraints = [
            models.UniqueConstraint(fields=["deal", "user"], name="credit_one_per_rep_per_deal"),
            models.CheckConstraint(
                condition=Q(percent__gt=0) & Q(percent__lte=100), name="credit_percent_range"
            ),
        ]
        indexes = [
            # Covers a rep's actuals lookup; PostgreSQL answers it from the index alone.
            models.Index(
                fields=["user", "close_date"],
                include=["close_month", "amount_cents"],
                condition=Q(counts=True),
                name="credit_counting_idx",
            ),
            # The same for a unit's roll-up through the closure table.
            models.Index(
                fields=["team", "close_date"],
                include=["close_month", "amount_cents"],
                condition=Q(counts=True),
                name="credit_team_counting_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.percent}%"


class DealRemoval(models.Model):
    """The record of a deal taken out of actuals (deleted at its source, or by hand)."""

    source = models.CharField(_("source"), max_length=20, choices=DealSource.choices)
    external_id = models.CharField(_("external id"), max_length=64)
    account = models.CharField(_("account"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    close_date = models.DateField(_("close date"))
    won = models.BooleanField(_("won"))
    reason = models.CharField(_("reason"), max_length=200)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("removed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    removed_at = models.DateTimeField(_("removed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("deal removal")
        verbose_name_plural = _("deal removals")
        ordering = ["-removed_at"]

    def __str__(self) -> str:
        return f"{self.account} ({self.source} {self.external_id})"
