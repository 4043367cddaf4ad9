"""Monthly target-health review meetings (SPEC §6): a unit, a month, a chair, members, and
an agenda of items each scored by every member and decided by the chair."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from targets.money import MONEY


class MeetingState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class ReviewMeeting(models.Model):
    unit = models.ForeignKey(
        "targets.OrgUnit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.CharField(_("month"), max_length=7, help_text=_("A month, e.g. 2025-05."))
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("chair"),
        on_delete=models.PROTECT,
        related_name="chaired_reviews",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        related_name="review_meetings",
        blank=True,
    )
    state = models.CharField(
        _("state"), max_length=8, choices=MeetingState.choices, default=MeetingState.OPEN
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Frozen at close: what the minutes say, whatever changes afterwards.
    minutes = models.JSONField(_("minutes"), null=True, blank=True)

    class Meta:
        verbose_name = _("review meeting")
        verbose_name_plural = _("review meetings")
        ordering = ["-month", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "month"], name="one_review_per_unit_month")
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.month}"

    @property
    def is_open(self) -> bool:
        return self.state == MeetingState.OPEN


class AgendaKind(models.TextChoices):
    RED_TARGET = "red_target", _("Red target")
    CASE = "case", _("Adjustment case")
    PROPOSAL = "proposal", _("Adjustment proposal")
    DISPUTE = "dispute", _("Disputed actual")


class ItemDecision(models.TextChoices):
    KEEP = "keep", _("Keep")
    ADJUST = "adjust", _("Adjust")
    DEFER = "defer", _("Defer")


class AgendaItem(models.Model):
    meeting = models.ForeignKey(
        ReviewMeeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="items"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=AgendaKind.choices)
    target = models.ForeignKey(
        "targets.Target", verbose_name=_("target"), on_delete=models.CASCADE, related_name="+"
    )
    proposal = models.ForeignKey(
        "reviews.Proposal",
        verbose_name=_("proposal"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="agenda_items",
    )
    case = models.ForeignKey(
        "reviews.AdjustmentCase",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="agenda_items",
    )
    dispute = models.ForeignKey(
        "reviews.ActualDispute",
        verbose_name=_("flagged actual"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="agenda_items",
    )
    carried_from = models.ForeignKey(
        "self",
        verbose_name=_("deferred from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    decision = models.CharField(
        _("decision"), max_length=8, choices=ItemDecision.choices, blank=True, default=""
    )
    new_base = models.DecimalField(_("new base"), null=True, blank=True, **MONEY)
    new_stretch = models.DecimalField(_("new stretch"), null=True, blank=True, **MONEY)
    notes = models.TextField(_("chair's notes"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    revision = models.OneToOneField(
        "targets.TargetRevision",
        verbose_name=_("revision"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agenda_item",
    )

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(new_base__isnull=True)
                | (Q(new_base__gte=0) & Q(new_stretch__gte=F("new_base"))),
                name="agenda_item_amounts_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.meeting} #{self.position} {self.kind}"


SCORE_CHOICES = [(n, str(n)) for n in range(1, 6)]


class MemberScore(models.Model):
    """One member's 1–5 scores and notes on one agenda item."""

    item = models.ForeignKey(
        AgendaItem, verbose_name=_("agenda item"), on_delete=models.CASCADE, related_name="scores"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    market = models.PositiveSmallIntegerField(
        _("market data"), null=True, blank=True, choices=SCORE_CHOICES
    )
    customer = models.PositiveSmallIntegerField(
        _("customer feedback"), null=True, blank=True, choices=SCORE_CHOICES
    )
    capacity = models.PositiveSmallIntegerField(
        _("team capacity"), null=True, blank=True, choices=SCORE_CHOICES
    )
    notes = models.TextField(_("notes"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("member score")
        verbose_name_plural = _("member scores")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "user"], name="one_score_per_member_item"),
            models.CheckConstraint(
                condition=(Q(market__isnull=True) | Q(market__gte=1, market__lte=5))
                & (Q(customer__isnull=True) | Q(customer__gte=1, customer__lte=5))
                & (Q(capacity__isnull=True) | Q(capacity__gte=1, capacity__lte=5)),
                name="member_scores_one_to_five",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.item}"
