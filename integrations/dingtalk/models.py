"""What TargetPilot keeps about DingTalk: approval instances of proposals, the departments an
org import matched, and the group robot's recent sends (its rate limit)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ApprovalState(models.TextChoices):
    CREATING = "creating", _("Being created")
    PENDING = "pending", _("Waiting for DingTalk")
    APPLIED = "applied", _("Decision applied")
    NOT_APPLIED = "not_applied", _("Decision not applied")
    TERMINATED = "terminated", _("Withdrawn in DingTalk")
    FAILED = "failed", _("Could not be created")


class ApprovalInstance(models.Model):
    """The DingTalk approval of one submitted proposal: created once, decided once."""

    connection = models.ForeignKey(
        "integrations.Connection",
        verbose_name=_("connection"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposal = models.OneToOneField(
        "reviews.Proposal",
        verbose_name=_("adjustment proposal"),
        on_delete=models.CASCADE,
        related_name="dingtalk_approval",
    )
    instance_id = models.CharField(
        _("DingTalk instance id"), max_length=64, null=True, blank=True, unique=True
    )
    state = models.CharField(
        _("state"), max_length=16, choices=ApprovalState.choices, default=ApprovalState.CREATING
    )
    result = models.CharField(_("DingTalk result"), max_length=16, blank=True)
    approver_userid = models.CharField(_("DingTalk approver"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("DingTalk approval")
        verbose_name_plural = _("DingTalk approvals")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.instance_id or f"#{self.proposal_id}"


class DingTalkDepartment(models.Model):
    """Which org unit a DingTalk department became, so a second import matches it again
    even after either side was renamed."""

    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="+"
    )
    dept_id = models.BigIntegerField()
    unit = models.ForeignKey("targets.OrgUnit", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "dept_id"], name="dingtalk_department_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dept_id} → {self.unit_id}"


class RobotSend(models.Model):
    """A message sent through a connection's group robot, kept for one minute: DingTalk
    accepts at most 20 a minute per robot."""

    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="+"
    )
    sent_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.connection_id} {self.sent_at:%H:%M:%S}"
