from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    PROPOSAL_SUBMITTED = "proposal_submitted", _("Adjustment proposal submitted")
    PROPOSAL_APPROVED = "proposal_approved", _("Adjustment proposal approved")
    PROPOSAL_REJECTED = "proposal_rejected", _("Adjustment proposal rejected")
    CASE_OPENED = "case_opened", _("Adjustment case opened")
    DISPUTE_OPENED = "dispute_opened", _("Actual flagged as wrong")
    DISPUTE_RESOLVED = "dispute_resolved", _("Flagged actual resolved")


class Notification(models.Model):
    """One message in a user's in-app inbox: the channel every notice is written to first.

    Text is rendered when shown, in the reader's language, from the kind and the objects it
    names; other channels (e-mail, DingTalk) deliver from these rows.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=40, choices=NotificationKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    target = models.ForeignKey(
        "targets.Target",
        verbose_name=_("target"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # The object the notice is about, by app-defined kind (a proposal for proposal_*).
    subject_id = models.BigIntegerField(_("subject"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient}"
