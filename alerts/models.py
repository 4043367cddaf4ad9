from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    PROPOSAL_SUBMITTED = "proposal_submitted", _("Adjustment proposal submitted")
    PROPOSAL_APPROVED = "proposal_approved", _("Adjustment proposal approved")
    PROPOSAL_REJECTED = "proposal_rejected", _("Adjustment proposal rejected")
    CASE_OPENED = "case_opened", _("Adjustment case opened")
    DISPUTE_OPENED = "dispute_opened", _("Actual flagged as wrong")
    DISPUTE_RESOLVED = "dispute_resolved", _("Flagged actual resolved")
    REVIEW_INVITED = "review_invited", _("Invited to a target-health review")
    REVIEW_CLOSED = "review_closed", _("Target-health review closed")
    ALERT = "alert", _("Alert")


class AlertKind(models.TextChoices):
    STATUS_WORSE = "status_worse", _("Status worsened")
    CASE_OPENED = "case_opened", _("Adjustment case opened")
    SYNC_FAILED = "sync_failed", _("Sync failed")
    DATA_STALE = "data_stale", _("Data is stale")
    METRIC_THRESHOLD = "metric_threshold", _("Metric crossed its threshold")


class AlertState(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


# SPEC §7 defaults: every rule on; who is told; thresholds where the rule has any.
RULE_DEFAULTS: dict[str, dict] = {
    AlertKind.STATUS_WORSE: {
        "thresholds": {},
        "to_owner": True,
        "to_manager": True,
        "to_hrbp": False,
        "to_director": False,
    },
    # The HRBP and the manager already get the case notice itself (reviews.deviations).
    AlertKind.CASE_OPENED: {
        "thresholds": {},
        "to_owner": True,
        "to_manager": False,
        "to_hrbp": False,
        "to_director": False,
    },
    AlertKind.SYNC_FAILED: {
        "thresholds": {},
        "to_owner": False,
        "to_manager": False,
        "to_hrbp": False,
        "to_director": True,
    },
    AlertKind.DATA_STALE: {
        "thresholds": {"hours": 24},
        "to_owner": False,
        "to_manager": False,
        "to_hrbp": False,
        "to_director": True,
    },
    AlertKind.METRIC_THRESHOLD: {
        "thresholds": {},
        "to_owner": True,
        "to_manager": True,
        "to_hrbp": False,
        "to_director": False,
    },
}


class AlertRule(models.Model):
    """What raises an alert and who is told; one row per kind, edited by admins."""

    kind = models.CharField(_("kind"), max_length=20, choices=AlertKind.choices, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    thresholds = models.JSONField(_("thresholds"), default=dict, blank=True)
    to_owner = models.BooleanField(_("tell the owner"), default=True)
    to_manager = models.BooleanField(_("tell the manager"), default=True)
    to_hrbp = models.BooleanField(_("tell the HRBP"), default=False)
    to_director = models.BooleanField(_("tell the sales director"), default=False)

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.get_kind_display()


class Alert(models.Model):
    """One raised condition. The same condition (`dedupe_key`) is open at most once: the
    partial unique constraint claims it, so concurrent evaluations raise it once."""

    kind = models.CharField(_("kind"), max_length=20, choices=AlertKind.choices)
    target = models.ForeignKey(
        "targets.Target",
        verbose_name=_("target"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    # A metric_threshold alert names the metric and the rep whose week crossed it.
    metric = models.ForeignKey(
        "targets.Metric",
        verbose_name=_("metric"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rep"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # Alerts about a connection (sync failed, data stale) name it; alerts depend on
    # integrations, never the other way round.
    connection = models.ForeignKey(
        "integrations.Connection",
        verbose_name=_("connection"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    state = models.CharField(
        _("state"), max_length=12, choices=AlertState.choices, default=AlertState.OPEN
    )
    dedupe_key = models.CharField(_("condition"), max_length=120)
    # What the condition was: e.g. {"from": "green", "to": "red", "pace": "54.2"}.
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("raised at"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set once the notices are written: claims delivery exactly once.
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=~models.Q(state="resolved"),
                name="alert_one_unresolved_per_condition",
            )
        ]
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


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
    alert = models.ForeignKey(
        "alerts.Alert",
        verbose_name=_("alert"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient}"


class DeliveryMode(models.TextChoices):
    EACH = "each", _("Each notice")
    DIGEST = "digest", _("Daily digest")
    OFF = "off", _("Off")


class NotificationPreference(models.Model):
    """How one user wants one topic (a notice kind or an alert kind) on one channel. No row
    means the channel's default (each notice); the in-app inbox always gets every notice."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    topic = models.CharField(_("topic"), max_length=40)
    channel = models.CharField(_("channel"), max_length=40)
    mode = models.CharField(_("mode"), max_length=10, choices=DeliveryMode.choices)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "topic", "channel"], name="notification_preference_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.topic} {self.channel}: {self.mode}"


class DeliveryAttempt(models.Model):
    """Every attempt of a channel to deliver a notice (or a user's daily digest), kept as
    the delivery log: which attempt it was, when, whether it went out, and why not."""

    notification = models.ForeignKey(
        Notification,
        verbose_name=_("notification"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    channel = models.CharField(_("channel"), max_length=40)
    # The company day a digest covers; empty for a single notice.
    digest_day = models.DateField(_("digest of"), null=True, blank=True)
    attempt = models.PositiveSmallIntegerField(_("attempt"))
    at = models.DateTimeField(_("at"), default=timezone.now)
    ok = models.BooleanField(_("delivered"))
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["notification", "channel"]),
            models.Index(fields=["recipient", "channel", "digest_day"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.attempt} {'ok' if self.ok else 'failed'}"
