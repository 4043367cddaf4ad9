"""Thin tasks around the DingTalk approvals: start one, settle one, poll the pending."""

from __future__ import annotations

import logging

from celery import shared_task

from .approvals import approval_request, approval_settle, approvals_pending, approvals_to_retry
from .client import DingTalkError

log = logging.getLogger(__name__)

MAX_RETRIES = 4


@shared_task(name="integrations.dingtalk.approval_request", bind=True, max_retries=MAX_RETRIES)
def dingtalk_approval_request(self, proposal_id: int) -> None:
    try:
        approval_request(proposal_id=proposal_id)
    except DingTalkError as error:
        # Recorded on the instance already; without a broker there is no later to retry at.
        if not self.request.is_eager:
            raise self.retry(countdown=30 * 2**self.request.retries, exc=error) from error


@shared_task(name="integrations.dingtalk.approval_settle", bind=True, max_retries=MAX_RETRIES)
def dingtalk_approval_settle(self, instance_pk: int) -> str:
    try:
        return approval_settle(instance_pk=instance_pk)
    except DingTalkError as error:
        # The poll picks it up again in any case.
        log.warning("settling DingTalk approval %s failed: %s", instance_pk, error)
        if not self.request.is_eager and not error.permanent:
            raise self.retry(countdown=30 * 2**self.request.retries, exc=error) from error
        return ""


@shared_task(name="integrations.dingtalk.approvals_poll")
def dingtalk_approvals_poll() -> dict[str, int]:
    """For callbacks that never came: ask DingTalk about every pending instance; and start
    the approvals DingTalk was down for when they were submitted."""
    outcomes: dict[str, int] = {}
    for proposal_id in approvals_to_retry():
        try:
            approval_request(proposal_id=proposal_id)
        except DingTalkError as error:
            log.warning("starting the DingTalk approval of %s failed: %s", proposal_id, error)
    for pk in approvals_pending():
        try:
            state = approval_settle(instance_pk=pk)
        except DingTalkError as error:
            log.warning("polling DingTalk approval %s failed: %s", pk, error)
            state = "error"
        outcomes[state] = outcomes.get(state, 0) + 1
    return outcomes
