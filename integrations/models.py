"""Connections to the systems actuals come from, and the log of every run that wrote deals."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from targets.models import DealSource

from .crypto import EncryptedJSONField


class ConnectionKind(models.TextChoices):
    SALESFORCE = "salesforce", "Salesforce"
    ERP = "erp", "ERP"
    WEBHOOK = "webhook", _("Webhook")
    DINGTALK = "dingtalk", _("DingTalk")


# The settings of each kind that are secrets: accepted on write, never shown back.
SECRET_SETTINGS: dict[str, tuple[str, ...]] = {
    ConnectionKind.SALESFORCE: ("client_secret", "access_token"),
    ConnectionKind.ERP: ("auth_header",),
    ConnectionKind.WEBHOOK: ("secret",),
    ConnectionKind.DINGTALK: (
        "app_secret",
        "aes_key",
        "token",
        "robot_secret",
        "robot_access_token",
    ),
}

# Which deal source a connection writes as (a webhook pushes on behalf of a system).
FAILURES_KEPT = 100

SALESFORCE_SOURCE_TAKEN = _(
    "Another Salesforce connection records its deals under this source already. A full "
    "resync of either would remove the deals of the other: record them under another source."
)

SYNC_SOURCES = [(v, label) for v, label in DealSource.choices if v != DealSource.MANUAL]


class Connection(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=ConnectionKind.choices)
    name = models.CharField(_("name"), max_length=100)
    source = models.CharField(
        _("deal source"),
        max_length=20,
        choices=SYNC_SOURCES,
        default=DealSource.ERP,
        help_text=_("The source the deals of this connection are recorded under."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    schedule_minutes = models.PositiveIntegerField(_("every (minutes)"), default=15)
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    # Kept apart from `settings` so that no serializer, form or admin page that shows the
    # settings can show a secret by accident; encrypted at rest (integrations/crypto.py).
    secrets = EncryptedJSONField(_("secrets"), default=dict, blank=True, editable=False)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("connection")
        verbose_name_plural = _("connections")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(schedule_minutes__gte=1), name="connection_schedule_positive"
            ),
            # A full resync removes the source's deals it did not see: two orgs writing one
            # source would remove each other's.
            models.UniqueConstraint(
                fields=["source"],
                condition=models.Q(kind="salesforce"),
                name="one_salesforce_connection_per_source",
                violation_error_message=SALESFORCE_SOURCE_TAKEN,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class RunKind(models.TextChoices):
    SYNC = "sync", _("Scheduled sync")
    WEBHOOK = "webhook", _("Webhook push")
    IMPORT = "import", _("File import")


class SyncRun(models.Model):
    """One run that wrote deals: a sync, a webhook push or a file import."""

    connection = models.ForeignKey(
        Connection,
        verbose_name=_("connection"),
        null=True,
        blank=True,
        # The log outlives a connection removed later: what came in stays traceable.
        on_delete=models.SET_NULL,
        related_name="runs",
    )
    kind = models.CharField(_("run kind"), max_length=20, choices=RunKind.choices)
    source = models.CharField(_("deal source"), max_length=20, choices=SYNC_SOURCES)
    started_by = models.ForeignKey(
        "targets.User",
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    fetched = models.PositiveIntegerField(_("fetched"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    deleted = models.PositiveIntegerField(_("deleted"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    unmapped_owners = models.JSONField(_("unmapped owners"), default=list, blank=True)
    # `failed` counts every failed row; these are the first FAILURES_KEPT of them, and why.
    failures = models.JSONField(
        _("failed rows"),
        default=list,
        blank=True,
        help_text=_("The first 100 rows that failed, each with the field and the reason."),
    )
    error = models.TextField(_("error"), blank=True)
    # The Celery task that runs it: a redelivered message finds its run again, and the
    # attempts counted on it stop a message that kills its worker from looping forever.
    task_id = models.CharField(_("task id"), max_length=64, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class WebhookSignature(models.Model):
    """Signatures seen within the freshness window: a second delivery of one is a replay."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    signature = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "signature"], name="webhook_signature_once"
            ),
        ]

    def __str__(self) -> str:
        return self.signature[:12]


class UnitCode(models.Model):
    """The code an org-chart file gives a unit: re-importing the file (a unit renamed or
    moved included) finds the same unit by it. Kept here, beside the imports, so the
    organisation's own model knows nothing of files."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    unit = models.OneToOneField(
        "targets.OrgUnit",
        verbose_name=_("org unit"),
        on_delete=models.CASCADE,
        related_name="import_code",
    )

    class Meta:
        verbose_name = _("unit code")
        verbose_name_plural = _("unit codes")

    def __str__(self) -> str:
        return self.code


class SyncState(models.Model):
    """Where a connection's pull stands, and who is pulling it now.

    The watermark advances in the same transaction as the rows it covers, so it never
    points past what is committed. The lease (a run and an expiry, renewed with every
    committed batch) makes one run per connection at a time: it is claimed with a
    conditional UPDATE, and a run whose worker died stops renewing it, so the lease lapses
    and the next run takes over where the watermark stands.
    """

    connection = models.OneToOneField(
        Connection, primary_key=True, on_delete=models.CASCADE, related_name="sync_state"
    )
    watermark = models.DateTimeField(_("watermark"), null=True, blank=True)
    # Set while a full resync is under way (possibly over several runs): deals of the
    # source not seen again since this moment are gone at the source.
    resync_since = models.DateTimeField(null=True, blank=True)
    # External ids the resync saw but could not write (an unmapped owner …): not gone.
    resync_kept = models.JSONField(default=list, blank=True)
    lease_run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sync state")
        verbose_name_plural = _("sync states")

    def __str__(self) -> str:
        return f"{self.connection_id} @ {self.watermark}"


# DingTalk's tables live with their code; imported here so that Django registers them.
from .dingtalk.models import (  # noqa: E402, F401
    ApprovalInstance,
    ApprovalState,
    DingTalkDepartment,
    RobotSend,
)
