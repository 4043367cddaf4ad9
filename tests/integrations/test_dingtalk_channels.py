"""Notices delivered through DingTalk: a work notification to the person, the group robot."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from alerts.models import NotificationKind
from alerts.services import notify
from integrations.dingtalk.channels import deliver_robot, deliver_work_notice
from integrations.dingtalk.client import DingTalkError
from targets import services as target_services

pytestmark = pytest.mark.django_db


def set_person(user, *, language="", dingtalk_userid=""):
    return target_services.user_save(
        user=user,
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        team=user.team,
        language=language,
        dingtalk_userid=dingtalk_userid,
    )


@pytest.fixture
def notice(org):
    target = target_services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(1000), stretch=Decimal(1500)
    )

    def make(recipient):
        [row] = notify(
            recipients=[recipient],
            kind=NotificationKind.PROPOSAL_APPROVED,
            actor=org.hrbp,
            target=target,
            note="同意调整",
        )
        return row

    return make


def test_a_work_notice_reaches_the_person_in_their_language(dingtalk, org, notice):
    alice = set_person(org.alice, language="en", dingtalk_userid="dt-alice")
    assert deliver_work_notice(notice(alice)) is True
    [sent] = dingtalk.notices
    assert (sent["agent_id"], sent["userid_list"]) == (2900001, "dt-alice")
    card = sent["msg"]["action_card"]
    assert sent["msg"]["msgtype"] == "action_card"
    assert card["title"] == "Adjustment proposal approved — Alice"
    assert card["markdown"] == "### Adjustment proposal approved — Alice\n\n同意调整"
    assert card["single_title"] == "Open in TargetPilot"
    assert "/targets/" in card["single_url"]


def test_a_chinese_reader_gets_it_in_chinese(dingtalk, org, notice):
    alice = set_person(org.alice, language="zh-hans", dingtalk_userid="dt-alice")
    deliver_work_notice(notice(alice))
    with translation.override("zh-hans"):
        label = str(NotificationKind.PROPOSAL_APPROVED.label)
    card = dingtalk.notices[0]["msg"]["action_card"]
    assert card["title"].startswith(label) and label != "Adjustment proposal approved"


def test_someone_dingtalk_does_not_know_gets_no_work_notice(dingtalk, org, notice):
    assert deliver_work_notice(notice(org.alice)) is False
    assert dingtalk.notices == []


def test_a_refused_notice_raises_for_the_caller_to_retry(dingtalk, org, notice):
    alice = set_person(org.alice, dingtalk_userid="dt-alice")
    dingtalk.fail_next = [500, 500, 500]
    with pytest.raises(DingTalkError):
        deliver_work_notice(notice(alice))


def test_the_robot_posts_the_notice_to_the_group_signed(dingtalk, org, notice):
    alice = set_person(org.alice, language="en")
    assert deliver_robot(notice(alice)) is True
    [sent] = dingtalk.robot
    markdown = sent["body"]["markdown"]
    assert sent["body"]["msgtype"] == "markdown"
    assert markdown["title"] == "Adjustment proposal approved — Alice"
    assert "同意调整" in markdown["text"] and "[Open in TargetPilot](http" in markdown["text"]


def test_a_robot_failure_raises(dingtalk, org, notice):
    dingtalk.fail_next = [500, 500, 500]
    with pytest.raises(DingTalkError):
        deliver_robot(notice(org.alice))


def test_without_a_dingtalk_connection_nothing_is_sent(db, org, notice):
    assert deliver_robot(notice(org.alice)) is False
    assert deliver_work_notice(notice(set_person(org.alice, dingtalk_userid="x"))) is False


def test_an_alert_reaches_each_person_by_work_notice_and_the_group_once(
    dingtalk, org, django_capture_on_commit_callbacks
):
    """Through the alerts' delivery (the registered channels, Celery in-process): each
    recipient with a DingTalk id gets a work notice; the group robot posts the alert once."""
    from alerts.models import AlertKind, DeliveryAttempt
    from alerts.services import Condition, alerts_raise

    set_person(org.alice, dingtalk_userid="dt-alice")
    set_person(org.mgr_east, dingtalk_userid="dt-manager")
    target = target_services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(1000), stretch=Decimal(1500)
    )
    with django_capture_on_commit_callbacks(execute=True):
        raised = alerts_raise(
            kind=AlertKind.STATUS_WORSE,
            conditions=[
                Condition(key=f"status:{target.pk}", target_id=target.pk, details={"to": "red"})
            ],
        )
    assert raised == 1
    assert sorted(n["userid_list"] for n in dingtalk.notices) == ["dt-alice", "dt-manager"]
    assert len(dingtalk.robot) == 1
    channels = set(DeliveryAttempt.objects.filter(ok=True).values_list("channel", flat=True))
    assert {"dingtalk", "dingtalk_robot"} <= channels
