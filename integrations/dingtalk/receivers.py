"""DingTalk hears of submitted proposals through the reviews app's signal."""

from __future__ import annotations

from django.dispatch import receiver

from reviews.signals import proposal_submitted

from .tasks import dingtalk_approval_request


@receiver(proposal_submitted, dispatch_uid="dingtalk-approval-request")
def start_dingtalk_approval(sender, proposal, **kwargs) -> None:
    # After commit: a rolled-back submit starts nothing, and DingTalk's answer time is not
    # part of the submit. The task itself looks for an approval connection.
    dingtalk_approval_request.delay_on_commit(proposal.pk)
