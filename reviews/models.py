from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from targets.money import MONEY


class ProposalReason(models.TextChoices):
    PURCHASE_CYCLE = "purchase_cycle", _("Longer customer purchase cycle")
    COMPETITOR_PRICE = "competitor_price", _("Competitor price cut")
    POLICY = "policy", _("Policy tightening")
    CAPACITY = "capacity", _("Capacity change")
    OTHER = "other", _("Other")


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Proposal(models.Model):
    """A request to change a target's Base/Stretch (SPEC §6); approval writes a revision."""

    target = models.ForeignKey(
        "targets.Target",
        verbose_name=_("target"),
        on_delete=models.CASCADE,
        related_name="proposals",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_base = models.DecimalField(_("proposed base"), **MONEY)
    proposed_stretch = models.DecimalField(_("proposed stretch"), **MONEY)
    reason = models.CharField(_("reason"), max_length=20, choices=ProposalReason.choices)
    explanation = models.TextField(_("explanation"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ProposalStatus.choices, default=ProposalStatus.DRAFT
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    revision = models.OneToOneField(
        "targets.TargetRevision",
        verbose_name=_("revision"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="proposal",
        help_text=_("The revision its approval wrote."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("adjustment proposal")
        verbose_name_plural = _("adjustment proposals")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(proposed_base__gte=0) & Q(proposed_stretch__gte=F("proposed_base")),
                name="proposal_amounts_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.target} → {self.proposed_base}/{self.proposed_stretch}"
