from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from reviews.attachments import attachment_upload_to
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
    attachment = models.FileField(
        _("attachment"),
        upload_to=attachment_upload_to,
        max_length=255,
        blank=True,
        help_text=_(
            "PDF, PNG/JPEG image or XLSX, at most 10 MB; served only to those who see the proposal."
        ),
    )
    attachment_name = models.CharField(_("attachment name"), max_length=255, blank=True)
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
    history = HistoricalRecords(excluded_fields=["updated_at"])

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


class DeviationSettings(models.Model):
    """A company's deviation trigger (SPEC §6): how far off, for how many weeks in a row."""

    company = models.OneToOneField(
        "targets.OrgUnit",
        verbose_name=_("company"),
        on_delete=models.CASCADE,
        related_name="deviation_settings",
        limit_choices_to={"parent__isnull": True},
    )
    threshold_percent = models.DecimalField(
        _("threshold (%)"),
        max_digits=5,
        decimal_places=1,
        default=15,
        help_text=_("A week counts as off plan when |deviation| is strictly above this."),
    )
    weeks = models.PositiveSmallIntegerField(
        _("weeks in a row"), default=2, help_text=_("Consecutive weeks off plan that open a case.")
    )

    class Meta:
        verbose_name = _("deviation trigger settings")
        verbose_name_plural = _("deviation trigger settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold_percent__gt=0) & Q(weeks__gte=1),
                name="deviation_settings_positive",
            )
        ]

    def __str__(self) -> str:
        return f"{self.company}: {self.threshold_percent}% × {self.weeks}"


class IndicatorStateKind(models.TextChoices):
    NORMAL = "normal", _("Normal")
    PENDING = "pending", _("Off plan, watching")
    CASE_OPEN = "case_open", _("Case open")


class IndicatorState(models.Model):
    """Where one key indicator of one target stands in the deviation trigger (SPEC §6)."""

    target = models.ForeignKey(
        "targets.Target", verbose_name=_("target"), on_delete=models.CASCADE, related_name="+"
    )
    indicator = models.CharField(_("indicator"), max_length=40)
    state = models.CharField(
        _("state"),
        max_length=12,
        choices=IndicatorStateKind.choices,
        default=IndicatorStateKind.NORMAL,
    )
    # Consecutive weeks off plan so far (weeks without data neither add nor reset).
    streak = models.PositiveSmallIntegerField(_("weeks off plan"), default=0)
    last_week = models.CharField(_("last evaluated week"), max_length=8, blank=True)
    # The recent evaluated weeks: [{week, plan, actual, deviation}] (deviation null: no data).
    weeks = models.JSONField(_("weeks"), default=list)

    class Meta:
        verbose_name = _("indicator state")
        verbose_name_plural = _("indicator states")
        constraints = [
            models.UniqueConstraint(fields=["target", "indicator"], name="one_state_per_indicator")
        ]

    def __str__(self) -> str:
        return f"{self.target_id} {self.indicator}: {self.state}"


class CaseState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


# Readable names of the indicators a case opens on (reviews.deviations.INDICATOR_SOURCES);
# an indicator without one shows its code.
INDICATOR_LABELS = {"revenue_pace": _("revenue pace")}


def indicator_label(indicator: str) -> str:
    return str(INDICATOR_LABELS.get(indicator, indicator))


class AdjustmentCase(models.Model):
    """Opened by the deviation trigger; goes onto the next review's agenda (SPEC §6)."""

    target = models.ForeignKey(
        "targets.Target",
        verbose_name=_("target"),
        on_delete=models.CASCADE,
        related_name="adjustment_cases",
    )
    indicator = models.CharField(_("indicator"), max_length=40)
    opened_at = models.DateTimeField(_("opened at"))
    opened_week = models.CharField(_("opened in week"), max_length=8)
    weeks = models.JSONField(_("weeks"), default=list)
    state = models.CharField(
        _("state"), max_length=8, choices=CaseState.choices, default=CaseState.OPEN
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("adjustment case")
        verbose_name_plural = _("adjustment cases")
        ordering = ["-opened_at", "-id"]
        constraints = [
            # One open case per target, whatever indicator opened it (no duplicates).
            models.UniqueConstraint(
                fields=["target"], condition=Q(state="open"), name="one_open_case_per_target"
            )
        ]

    def __str__(self) -> str:
        return f"{self.target} · {self.indicator} · {self.opened_week}"

    @property
    def indicator_label(self) -> str:
        return indicator_label(self.indicator)


class DisputeKind(models.TextChoices):
    MISSING_DEAL = "missing_deal", _("Missing deal")
    WRONG_OWNER = "wrong_owner", _("Wrong owner")
    WRONG_AMOUNT = "wrong_amount", _("Wrong amount")
    WRONG_DATE = "wrong_date", _("Wrong date")


class DisputeState(models.TextChoices):
    OPEN = "open", _("Open")
    CORRECTED = "corrected", _("Corrected")
    REJECTED = "rejected", _("Rejected")


class ActualDispute(models.Model):
    """A rep's flag on an actual they think is wrong (issue 6 §5): a deal or one of its credit
    splits, or a deal missing altogether. The manager resolves it once: corrected or rejected.

    `account`, `amount` and `close_date` name the missing deal, or keep what the flagged deal
    said when it was flagged (the deal may be corrected or removed at its source later).
    """

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("flagged by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=DisputeKind.choices)
    deal = models.ForeignKey(
        "targets.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        # A deal removed at its source leaves the flag (and its snapshot) on record.
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The credit split flagged, by its rep (credit rows are rewritten by every sync).
    split_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("credit split of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The author's team on the close date: who resolves it and which review it goes to.
    team = models.ForeignKey(
        "targets.OrgUnit",
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    account = models.CharField(_("account"), max_length=200)
    amount = models.DecimalField(_("amount"), **MONEY)
    close_date = models.DateField(_("close date"))
    comment = models.TextField(_("comment"))
    state = models.CharField(
        _("state"), max_length=10, choices=DisputeState.choices, default=DisputeState.OPEN
    )
    resolution_note = models.TextField(_("resolution note"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("flagged at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("disputed actual")
        verbose_name_plural = _("disputed actuals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="missing_deal") | Q(deal__isnull=True, split_user__isnull=True),
                name="dispute_missing_deal_names_no_deal",
            ),
            models.CheckConstraint(
                condition=Q(state="open", resolved_at__isnull=True)
                | (~Q(state="open") & Q(resolved_at__isnull=False)),
                name="dispute_resolved_when_closed",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="dispute_amount_not_negative"),
            # One open flag of a kind per rep and deal: a second click is not a second flag.
            models.UniqueConstraint(
                fields=["author", "deal", "kind"],
                condition=Q(state="open", deal__isnull=False),
                name="one_open_dispute_per_deal_and_kind",
            ),
        ]
        indexes = [models.Index(fields=["team", "state"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.account} ({self.author})"


# Review meetings live in their own module; Django finds models through this one.
from reviews.meeting_models import (  # noqa: E402
    AgendaItem,
    AgendaKind,
    ItemDecision,
    MeetingState,
    MemberScore,
    ReviewMeeting,
)

__all__ = [
    "ActualDispute",
    "AdjustmentCase",
    "AgendaItem",
    "AgendaKind",
    "CaseState",
    "DeviationSettings",
    "DisputeKind",
    "DisputeState",
    "IndicatorState",
    "IndicatorStateKind",
    "ItemDecision",
    "MeetingState",
    "MemberScore",
    "Proposal",
    "ProposalReason",
    "ProposalStatus",
    "ReviewMeeting",
]
