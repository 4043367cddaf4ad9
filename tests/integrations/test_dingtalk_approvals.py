"""Proposals approved in DingTalk: one instance per submitted proposal, the verdict applied
exactly once whether it comes by callback, by polling, or both."""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
from django.db import connection as db_connection

from integrations.dingtalk.approvals import approval_request, approval_settle
from integrations.dingtalk.crypto import DingTalkCrypto
from integrations.dingtalk.tasks import dingtalk_approval_request, dingtalk_approvals_poll
from integrations.models import ApprovalInstance, ApprovalState
from integrations.services import connection_save
from reviews import services as review_services
from reviews.models import Proposal, ProposalStatus
from targets import services as target_services
from targets.errors import StateConflict
from targets.models import TargetRevision
from tests.integrations.dingtalk_fake import AES_KEY, APP_KEY, TOKEN
from tests.services import require_service

pytestmark = pytest.mark.django_db
CREATE = "/v1.0/workflow/processInstances"


def link(user, userid):
    return target_services.user_save(
        user=user,
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        team=user.team,
        dingtalk_userid=userid,
    )


@pytest.fixture
def people(org):
    link(org.alice, "dt-alice")
    link(org.hrbp, "dt-hrbp")
    link(org.dave, "dt-dave")
    return org


@pytest.fixture
def target(people):
    return target_services.target_create(
        period="2025Q2", owner_user=people.alice, base=Decimal(1000), stretch=Decimal(1500)
    )


def submit(org, target, django_capture_on_commit_callbacks) -> Proposal:
    with django_capture_on_commit_callbacks(execute=True):
        return review_services.proposal_create(
            author=org.alice,
            target=target,
            proposed_base=Decimal(800),
            proposed_stretch=Decimal(1200),
            reason="competitor_price",
            explanation="竞品降价 20%",
            submit=True,
        )


@pytest.fixture
def submitted(dingtalk, people, target, django_capture_on_commit_callbacks) -> Proposal:
    return submit(people, target, django_capture_on_commit_callbacks)


def instance_of(proposal) -> ApprovalInstance:
    return ApprovalInstance.objects.get(proposal=proposal)


def crypto() -> DingTalkCrypto:
    return DingTalkCrypto(token=TOKEN, aes_key=AES_KEY, owner_key=APP_KEY)


def callback(client, connection, event, *, signature=None, capture=None):
    envelope = crypto().envelope(json.dumps(event), timestamp="1747731600000", nonce="n0nce")
    query = (
        f"msg_signature={signature or envelope['msg_signature']}"
        f"&timestamp={envelope['timeStamp']}&nonce={envelope['nonce']}"
    )
    url = f"/api/v1/integrations/dingtalk/callback/{connection.pk}/?{query}"
    body = json.dumps({"encrypt": envelope["encrypt"]})
    if capture is None:
        return client.post(url, data=body, content_type="application/json")
    with capture(execute=True):
        return client.post(url, data=body, content_type="application/json")


def finished(instance_id, result="agree"):
    return {
        "EventType": "bpms_instance_change",
        "processInstanceId": instance_id,
        "corpId": "ding-corp",
        "type": "finish",
        "result": result,
        "staffId": "dt-alice",
        "processCode": "PROC-TP-ADJUST",
        "title": "目标调整",
    }


def opens_to_success(response) -> bool:
    body = response.json()
    return (
        crypto().decrypt(
            msg_signature=body["msg_signature"],
            timestamp=body["timeStamp"],
            nonce=body["nonce"],
            encrypt=body["encrypt"],
        )
        == "success"
    )


# --- creating the instance -------------------------------------------------------------


def test_submitting_starts_one_dingtalk_approval_with_the_proposal_in_its_form(dingtalk, submitted):
    instance = instance_of(submitted)
    assert (instance.state, instance.instance_id) == (ApprovalState.PENDING, "inst-1")
    [payload] = dingtalk.created
    assert payload["processCode"] == "PROC-TP-ADJUST"
    assert payload["originatorUserId"] == "dt-alice"
    form = {c["name"]: c["value"] for c in payload["formComponentValues"]}
    assert form["调整原因"] and form["说明"] == "竞品降价 20%"
    assert form["建议 Base / Stretch"] == "800 / 1,200"
    assert form["TargetPilot"].endswith(f"/proposals/{submitted.pk}/")


def test_the_approval_is_started_once_however_often_it_is_asked(
    dingtalk, submitted, people, django_capture_on_commit_callbacks
):
    dingtalk_approval_request.apply(args=[submitted.pk])
    approval_request(proposal_id=submitted.pk)
    with pytest.raises(StateConflict):
        review_services.proposal_submit(proposal=submitted, by=people.alice)
    assert len(dingtalk.created) == 1
    assert ApprovalInstance.objects.count() == 1


def test_a_draft_is_not_sent_to_dingtalk(dingtalk, people, target):
    draft = review_services.proposal_create(
        author=people.alice,
        target=target,
        proposed_base=Decimal(800),
        proposed_stretch=Decimal(1200),
        reason="competitor_price",
    )
    assert approval_request(proposal_id=draft.pk) is None
    assert dingtalk.created == []


def test_without_an_approval_process_nothing_goes_to_dingtalk(
    dingtalk, people, target, django_capture_on_commit_callbacks
):
    settings = {**dingtalk.connection.settings}
    settings.pop("approval_process_code")
    connection_save(connection=dingtalk.connection, kind="dingtalk", name="钉钉", settings=settings)
    submit(people, target, django_capture_on_commit_callbacks)
    assert dingtalk.created == [] and not ApprovalInstance.objects.exists()


def test_an_author_dingtalk_does_not_know_is_recorded_not_sent(
    dingtalk, org, django_capture_on_commit_callbacks
):
    target = target_services.target_create(
        period="2025Q2", owner_user=org.bob, base=Decimal(1000), stretch=Decimal(1500)
    )
    with django_capture_on_commit_callbacks(execute=True):
        proposal = review_services.proposal_create(
            author=org.bob,
            target=target,
            proposed_base=Decimal(900),
            proposed_stretch=Decimal(1200),
            reason="competitor_price",
            submit=True,
        )
    instance = instance_of(proposal)
    assert instance.state == ApprovalState.FAILED and instance.error
    assert dingtalk.created == []
    assert approval_request(proposal_id=proposal.pk) is None


def test_dingtalk_down_at_submit_is_tried_again_later(
    dingtalk, people, target, django_capture_on_commit_callbacks, monkeypatch
):
    # The HRBP's work notice about the submission would take the failures meant for the
    # approval: this test is about the approval alone.
    from alerts import channels

    monkeypatch.delitem(channels._CHANNELS, "dingtalk")
    dingtalk.fail_next = [503, 503, 503]
    proposal = submit(people, target, django_capture_on_commit_callbacks)
    instance = instance_of(proposal)
    assert (instance.state, instance.attempts) == (ApprovalState.FAILED, 1)
    assert proposal.status == ProposalStatus.SUBMITTED
    dingtalk.fail_next = [503, 503, 503]
    dingtalk_approval_request.apply(args=[proposal.pk])
    instance.refresh_from_db()
    assert (instance.state, instance.attempts) == (ApprovalState.FAILED, 2)
    # Without a broker to retry later, the poll starts it once DingTalk is back.
    dingtalk_approvals_poll.apply()
    instance.refresh_from_db()
    assert (instance.state, instance.instance_id, instance.attempts) == (
        ApprovalState.PENDING,
        "inst-1",
        3,
    )
    assert len(dingtalk.created) == 1


# --- the callback ----------------------------------------------------------------------


def test_dingtalk_checking_the_url_gets_an_encrypted_success(client, dingtalk):
    response = callback(client, dingtalk.connection, {"EventType": "check_url"})
    assert response.status_code == 200
    assert opens_to_success(response)


def test_a_badly_signed_callback_is_refused_and_decides_nothing(
    client, dingtalk, submitted, people, django_capture_on_commit_callbacks
):
    dingtalk.finish("inst-1", approver="dt-hrbp", result="agree")
    response = callback(
        client,
        dingtalk.connection,
        finished("inst-1"),
        signature="0" * 40,
        capture=django_capture_on_commit_callbacks,
    )
    assert response.status_code == 401
    submitted.refresh_from_db()
    assert submitted.status == ProposalStatus.SUBMITTED
    assert instance_of(submitted).state == ApprovalState.PENDING


def test_callbacks_to_unknown_or_disabled_connections_and_bad_bodies_are_refused(client, dingtalk):
    url = f"/api/v1/integrations/dingtalk/callback/{dingtalk.connection.pk}/"
    assert client.post(url, data="{}", content_type="application/json").status_code == 401
    assert client.post(url, data="nope", content_type="application/json").status_code == 401
    assert client.get(url).status_code == 405
    event = {"EventType": "check_url"}
    other = dingtalk.connection.pk + 1000
    response = client.post(
        f"/api/v1/integrations/dingtalk/callback/{other}/",
        data="{}",
        content_type="application/json",
    )
    assert response.status_code == 401
    connection_save(
        connection=dingtalk.connection,
        kind="dingtalk",
        name="钉钉",
        enabled=False,
        settings=None,
    )
    assert callback(client, dingtalk.connection, event).status_code == 401


def test_agree_in_dingtalk_approves_once_however_often_dingtalk_calls(
    client, dingtalk, submitted, people, django_capture_on_commit_callbacks
):
    dingtalk.finish("inst-1", approver="dt-hrbp", result="agree", remark="同意")
    for _ in range(3):
        response = callback(
            client,
            dingtalk.connection,
            finished("inst-1"),
            capture=django_capture_on_commit_callbacks,
        )
        assert response.status_code == 200 and opens_to_success(response)
    submitted.refresh_from_db()
    assert (submitted.status, submitted.decided_by, submitted.decision_note) == (
        ProposalStatus.APPROVED,
        people.hrbp,
        "同意",
    )
    assert TargetRevision.objects.filter(target=submitted.target).count() == 1
    instance = instance_of(submitted)
    assert (instance.state, instance.result, instance.approver_userid) == (
        ApprovalState.APPLIED,
        "agree",
        "dt-hrbp",
    )
    assert instance.decided_at is not None
    # Asked once for the outcome: the repeats found the instance settled.
    assert sum(1 for r, _ in dingtalk.server.log if r.path == CREATE and r.method == "GET") == 1


def test_refuse_in_dingtalk_rejects_with_the_approvers_remark(
    client, dingtalk, submitted, people, django_capture_on_commit_callbacks
):
    dingtalk.finish("inst-1", approver="dt-hrbp", result="refuse", remark="证据不足")
    callback(
        client,
        dingtalk.connection,
        finished("inst-1", "refuse"),
        capture=django_capture_on_commit_callbacks,
    )
    submitted.refresh_from_db()
    assert (submitted.status, submitted.decision_note) == (ProposalStatus.REJECTED, "证据不足")
    assert (
        not TargetRevision.objects.filter(target=submitted.target)
        .exclude(reason__startswith="Initial")
        .filter(proposal__isnull=False)
        .exists()
    )


def test_a_refusal_without_remark_still_gives_the_author_a_reason(
    client, dingtalk, submitted, django_capture_on_commit_callbacks
):
    dingtalk.finish("inst-1", approver="dt-hrbp", result="refuse")
    callback(
        client,
        dingtalk.connection,
        finished("inst-1", "refuse"),
        capture=django_capture_on_commit_callbacks,
    )
    submitted.refresh_from_db()
    assert submitted.status == ProposalStatus.REJECTED and submitted.decision_note


def test_an_approver_nobody_in_targetpilot_is_recorded_and_decides_nothing(
    client, dingtalk, submitted, django_capture_on_commit_callbacks
):
    dingtalk.finish("inst-1", approver="dt-stranger", result="agree")
    response = callback(
        client, dingtalk.connection, finished("inst-1"), capture=django_capture_on_commit_callbacks
    )
    assert response.status_code == 200 and opens_to_success(response)
    submitted.refresh_from_db()
    assert submitted.status == ProposalStatus.SUBMITTED
    instance = instance_of(submitted)
    assert instance.state == ApprovalState.NOT_APPLIED and "dt-stranger" in instance.error


@pytest.mark.parametrize("approver", ["dt-dave", "dt-alice"])
def test_an_approver_who_may_not_decide_it_is_recorded_and_decides_nothing(
    client, dingtalk, submitted, approver, django_capture_on_commit_callbacks
):
    """A rep of another region, and the author herself."""
    dingtalk.finish("inst-1", approver=approver, result="agree")
    callback(
        client, dingtalk.connection, finished("inst-1"), capture=django_capture_on_commit_callbacks
    )
    submitted.refresh_from_db()
    assert submitted.status == ProposalStatus.SUBMITTED
    assert instance_of(submitted).state == ApprovalState.NOT_APPLIED


def test_a_proposal_decided_in_targetpilot_meanwhile_is_not_decided_again(
    client, dingtalk, submitted, people, django_capture_on_commit_callbacks
):
    review_services.proposal_decide(
        proposal=submitted, by=people.director, decision="reject", note="不调整"
    )
    dingtalk.finish("inst-1", approver="dt-hrbp", result="agree")
    callback(
        client, dingtalk.connection, finished("inst-1"), capture=django_capture_on_commit_callbacks
    )
    submitted.refresh_from_db()
    assert (submitted.status, submitted.decided_by) == (ProposalStatus.REJECTED, people.director)
    instance = instance_of(submitted)
    assert instance.state == ApprovalState.NOT_APPLIED and instance.error


def test_an_approval_withdrawn_in_dingtalk_leaves_the_proposal_to_targetpilot(dingtalk, submitted):
    dingtalk.instances["inst-1"].update(status="TERMINATED")
    dingtalk_approvals_poll.apply()
    submitted.refresh_from_db()
    assert submitted.status == ProposalStatus.SUBMITTED
    assert instance_of(submitted).state == ApprovalState.TERMINATED


# --- polling -----------------------------------------------------------------------------


def test_the_poll_applies_what_no_callback_brought(dingtalk, submitted, people):
    assert dingtalk_approvals_poll.apply().get() == {ApprovalState.PENDING: 1}
    submitted.refresh_from_db()
    assert submitted.status == ProposalStatus.SUBMITTED
    dingtalk.finish("inst-1", approver="dt-hrbp", result="agree")
    assert dingtalk_approvals_poll.apply().get() == {ApprovalState.APPLIED: 1}
    submitted.refresh_from_db()
    assert (submitted.status, submitted.decided_by) == (ProposalStatus.APPROVED, people.hrbp)
    assert dingtalk_approvals_poll.apply().get() == {}


def test_a_callback_after_the_poll_decided_changes_nothing(
    client, dingtalk, submitted, django_capture_on_commit_callbacks
):
    dingtalk.finish("inst-1", approver="dt-hrbp", result="agree")
    instance = instance_of(submitted)
    dingtalk_approvals_poll.apply()
    # A settle that read DingTalk before the poll committed arrives second.
    assert approval_settle(instance_pk=instance.pk) == ""
    response = callback(
        client, dingtalk.connection, finished("inst-1"), capture=django_capture_on_commit_callbacks
    )
    assert response.status_code == 200
    assert TargetRevision.objects.filter(proposal__isnull=False).count() == 1


def test_the_poll_is_scheduled_every_ten_minutes(settings):
    from config.celery import app

    [entry] = [
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "integrations.dingtalk.approvals_poll"
    ]
    assert entry["schedule"] == 600
    assert "integrations.dingtalk.approvals_poll" in app.tasks


def test_the_poll_survives_dingtalk_being_down(dingtalk, submitted):
    dingtalk.fail_next = [500, 500, 500]
    assert dingtalk_approvals_poll.apply().get() == {"error": 1}
    assert instance_of(submitted).state == ApprovalState.PENDING


@pytest.mark.django_db(transaction=True)
def test_callback_and_poll_racing_on_postgresql_decide_once(dingtalk, people, target):
    require_service("PostgreSQL", db_connection.vendor == "postgresql", hint="set DATABASE_URL")
    proposal = review_services.proposal_create(
        author=people.alice,
        target=target,
        proposed_base=Decimal(800),
        proposed_stretch=Decimal(1200),
        reason="competitor_price",
        submit=True,
    )
    # Outside a test transaction the submit's after-commit work has run: the instance exists.
    instance = instance_of(proposal)
    dingtalk.finish(instance.instance_id, approver="dt-hrbp", result="agree")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def settle():
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            outcomes.append(approval_settle(instance_pk=instance.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=settle) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert ApprovalState.APPLIED in outcomes and len(outcomes) == 2
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPROVED
    assert TargetRevision.objects.filter(proposal=proposal).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_starting_one_approval_on_postgresql_start_it_once(dingtalk, people, target):
    require_service("PostgreSQL", db_connection.vendor == "postgresql", hint="set DATABASE_URL")
    settings = {**dingtalk.connection.settings}
    code = settings.pop("approval_process_code")
    connection_save(connection=dingtalk.connection, kind="dingtalk", name="钉钉", settings=settings)
    proposal = review_services.proposal_create(
        author=people.alice,
        target=target,
        proposed_base=Decimal(800),
        proposed_stretch=Decimal(1200),
        reason="competitor_price",
        submit=True,
    )
    assert not ApprovalInstance.objects.exists()
    connection_save(
        connection=dingtalk.connection,
        kind="dingtalk",
        name="钉钉",
        settings={**settings, "approval_process_code": code},
    )
    barrier = threading.Barrier(3)

    def start():
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            approval_request(proposal_id=proposal.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(dingtalk.created) == 1
    assert instance_of(proposal).state == ApprovalState.PENDING
