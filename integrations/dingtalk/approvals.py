"""Adjustment proposals approved in DingTalk (SPEC §6 through DingTalk's approval app).

A submitted proposal gets one approval instance (claimed under a unique constraint before
DingTalk is called, so two submits or two workers cannot start two). Its outcome arrives by
callback or by polling; both end in `approval_apply`, which claims the instance with a
conditional UPDATE and decides through the proposals' own exactly-once `proposal_decide`,
as the DingTalk approver mapped to a TargetPilot person who may decide it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from integrations.models import Connection, ConnectionKind
from reviews.access import can_decide
from reviews.models import Proposal, ProposalStatus
from reviews.services import Decision, proposal_decide
from targets.errors import StateConflict
from targets.formatting import format_money
from targets.models import User

from .client import DingTalkClient, DingTalkError
from .models import ApprovalInstance, ApprovalState

log = logging.getLogger(__name__)

# The names of the approval form's components in DingTalk; a connection may rename them in
# its `approval_form_names` setting to match the form its administrator built.
FORM_NAMES = {
    "target": "目标",
    "current": "当前 Base / Stretch",
    "proposed": "建议 Base / Stretch",
    "reason": "调整原因",
    "explanation": "说明",
    "link": "TargetPilot",
}
MAX_ATTEMPTS = 5
AGREE, REFUSE = "agree", "refuse"


def approval_connection() -> Connection | None:
    """The enabled DingTalk connection that runs approvals, if any."""
    for connection in Connection.objects.filter(
        kind=ConnectionKind.DINGTALK, enabled=True
    ).order_by("pk"):
        if (connection.settings or {}).get("approval_process_code"):
            return connection
    return None


def _form(proposal: Proposal, connection: Connection) -> list[tuple[str, str]]:
    names = {**FORM_NAMES, **((connection.settings or {}).get("approval_form_names") or {})}
    target = proposal.target
    language = settings.LANGUAGE_CODE

    def money(a, b) -> str:
        return f"{format_money(a, language)} / {format_money(b, language)}"

    with translation.override(language):
        values = {
            "target": f"{target.owner_name} {target.period}",
            "current": money(target.base, target.stretch),
            "proposed": money(proposal.proposed_base, proposal.proposed_stretch),
            "reason": str(proposal.get_reason_display()),
            "explanation": proposal.explanation or "—",
            "link": settings.SITE_URL + reverse("proposal-page", args=[proposal.pk]),
        }
    return [(names[key], value) for key, value in values.items()]


def _claim_creation(proposal: Proposal, connection: Connection) -> ApprovalInstance | None:
    """The instance row this caller may create in DingTalk, or None when another caller
    has it (or it exists already)."""
    try:
        with transaction.atomic():
            return ApprovalInstance.objects.create(
                proposal=proposal, connection=connection, attempts=1
            )
    except IntegrityError:
        pass
    # A creation that failed for a passing reason may be tried again, by one caller.
    claimed = ApprovalInstance.objects.filter(
        proposal=proposal, state=ApprovalState.FAILED, attempts__lt=MAX_ATTEMPTS
    ).update(state=ApprovalState.CREATING, attempts=F("attempts") + 1, error="")
    return ApprovalInstance.objects.get(proposal=proposal) if claimed else None


def approval_request(*, proposal_id: int) -> ApprovalInstance | None:
    """Start the DingTalk approval of a submitted proposal, once. Raises DingTalkError when
    DingTalk could not be reached, for the task to retry; a permanent refusal is recorded."""
    connection = approval_connection()
    proposal = (
        Proposal.objects.select_related("target", "target__owner_user", "target__owner_unit")
        .select_related("author")
        .filter(pk=proposal_id, status=ProposalStatus.SUBMITTED)
        .first()
    )
    if connection is None or proposal is None:
        return None
    instance = _claim_creation(proposal, connection)
    if instance is None:
        return None
    originator = proposal.author.dingtalk_userid
    if not originator:
        return _creation_failed(
            instance, _("The author has no DingTalk user id; decide the proposal here.")
        )
    dept_id = (connection.settings or {}).get("approval_dept_id")
    try:
        instance_id = DingTalkClient(connection).approval_create(
            process_code=connection.settings["approval_process_code"],
            originator_userid=originator,
            form=_form(proposal, connection),
            dept_id=int(dept_id) if dept_id not in (None, "") else None,
        )
    except DingTalkError as error:
        _creation_failed(instance, str(error), permanent=error.permanent)
        if not error.permanent:
            raise
        return instance
    ApprovalInstance.objects.filter(pk=instance.pk).update(
        instance_id=instance_id, state=ApprovalState.PENDING, error=""
    )
    instance.refresh_from_db()
    return instance


def _creation_failed(
    instance: ApprovalInstance, error: str, *, permanent: bool = True
) -> ApprovalInstance:
    changes = {"state": ApprovalState.FAILED, "error": error[:1000]}
    if permanent:
        # Nothing will change by trying again: no later attempt claims it.
        changes["attempts"] = MAX_ATTEMPTS
    ApprovalInstance.objects.filter(pk=instance.pk).update(**changes)
    instance.refresh_from_db()
    return instance


def _approver(detail: dict[str, Any], result: str) -> tuple[str, str]:
    """Who gave the final verdict, and what they wrote: the last operation that agreed or
    refused, else the last finished task with that result."""
    wanted = result.upper()
    for record in reversed(detail.get("operationRecords") or []):
        if str(record.get("result", "")).upper() == wanted and record.get("userId"):
            return str(record["userId"]), str(record.get("remark") or "")
    for task in reversed(detail.get("tasks") or []):
        if str(task.get("result", "")).upper() == wanted and task.get("userId"):
            return str(task["userId"]), ""
    return "", ""


def approval_apply(*, instance: ApprovalInstance, detail: dict[str, Any]) -> str:
    """Apply DingTalk's outcome to the proposal exactly once; the instance's new state (or
    its current one when the outcome was applied before, or has not come yet)."""
    status = str(detail.get("status", "")).upper()
    result = str(detail.get("result", "")).lower()
    if status == "TERMINATED" or (status == "COMPLETED" and result not in (AGREE, REFUSE)):
        ApprovalInstance.objects.filter(pk=instance.pk, state=ApprovalState.PENDING).update(
            state=ApprovalState.TERMINATED, decided_at=timezone.now(), result=result
        )
        return ApprovalState.TERMINATED
    if status != "COMPLETED":
        return ApprovalState.PENDING
    approver, remark = _approver(detail, result)
    with transaction.atomic():
        claimed = ApprovalInstance.objects.filter(
            pk=instance.pk, state=ApprovalState.PENDING
        ).update(
            state=ApprovalState.APPLIED,
            result=result,
            approver_userid=approver,
            decided_at=timezone.now(),
        )
        if not claimed:
            return ApprovalInstance.objects.get(pk=instance.pk).state
        refusal = _decide(instance, approver=approver, result=result, remark=remark)
        if refusal:
            ApprovalInstance.objects.filter(pk=instance.pk).update(
                state=ApprovalState.NOT_APPLIED, error=refusal
            )
            log.warning("DingTalk approval %s not applied: %s", instance.instance_id, refusal)
            return ApprovalState.NOT_APPLIED
    return ApprovalState.APPLIED


def _decide(instance: ApprovalInstance, *, approver: str, result: str, remark: str) -> str:
    """Decide the proposal as the approver; why not, when it may not be decided."""
    user = (
        User.objects.filter(dingtalk_userid=approver, is_active=True).first() if approver else None
    )
    if user is None:
        return _("The DingTalk approver %(userid)s is nobody in TargetPilot.") % {
            "userid": approver or "—"
        }
    proposal = Proposal.objects.select_related(
        "target", "target__owner_user", "target__owner_unit", "author"
    ).get(pk=instance.proposal_id)
    if not can_decide(user, proposal):
        return _("%(user)s approved in DingTalk but may not decide this proposal.") % {"user": user}
    note = remark.strip() or (
        _("Approved in DingTalk.") if result == AGREE else _("Refused in DingTalk.")
    )
    try:
        with transaction.atomic():
            proposal_decide(
                proposal=proposal,
                by=user,
                decision=Decision.APPROVE if result == AGREE else Decision.REJECT,
                note=note,
            )
    except StateConflict as conflict:
        return conflict.message
    return ""


def approval_settle(*, instance_pk: int) -> str:
    """Ask DingTalk how a pending instance stands and apply its outcome."""
    instance = (
        ApprovalInstance.objects.select_related("connection")
        .filter(pk=instance_pk, state=ApprovalState.PENDING, instance_id__isnull=False)
        .first()
    )
    if instance is None:
        return ""
    detail = DingTalkClient(instance.connection).approval_get(instance.instance_id)
    return approval_apply(instance=instance, detail=detail)


def approvals_pending() -> list[int]:
    return list(
        ApprovalInstance.objects.filter(
            state=ApprovalState.PENDING,
            instance_id__isnull=False,
            connection__enabled=True,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)
    )


def approvals_to_retry() -> list[int]:
    """Proposals whose instance could not be created for a passing reason (DingTalk down)."""
    return list(
        ApprovalInstance.objects.filter(
            state=ApprovalState.FAILED,
            attempts__lt=MAX_ATTEMPTS,
            connection__enabled=True,
            proposal__status=ProposalStatus.SUBMITTED,
        )
        .order_by("created_at")
        .values_list("proposal_id", flat=True)
    )


def approval_event(*, connection: Connection, event: dict[str, Any]) -> int | None:
    """The pending instance a callback event finished, if any (others need no work)."""
    if event.get("EventType") != "bpms_instance_change":
        return None
    if event.get("type") not in ("finish", "terminate"):
        return None
    instance_id = str(event.get("processInstanceId") or "")
    return (
        ApprovalInstance.objects.filter(
            connection=connection, instance_id=instance_id, state=ApprovalState.PENDING
        )
        .values_list("pk", flat=True)
        .first()
    )
