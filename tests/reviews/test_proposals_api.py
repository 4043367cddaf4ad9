"""Adjustment proposals through API v1 (SPEC §6, §10 `proposals/`)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from alerts.models import Notification
from reviews import services
from reviews.models import Proposal, ProposalStatus
from targets import services as target_services
from targets.errors import StateConflict
from targets.models import Role, TargetRevision
from tests.factories import make_user
from tests.services import require_service

pytestmark = pytest.mark.django_db
URL = "/api/v1/proposals/"


@pytest.fixture
def targets(org):
    return {
        "alice": target_services.target_create(
            period="2025Q2", owner_user=org.alice, base=Decimal(1000), stretch=Decimal(1500)
        ),
        "dave": target_services.target_create(
            period="2025Q2", owner_user=org.dave, base=Decimal(1000), stretch=Decimal(1500)
        ),
        "east1": target_services.target_create(
            period="2025Q2", owner_unit=org.east1, base=Decimal(5000), stretch=Decimal(6000)
        ),
    }


def body(target, **changes):
    data = {
        "target": target.pk,
        "proposed_base": "800",
        "proposed_stretch": "1200",
        "reason": "competitor_price",
        "explanation": "竞品降价 20%",
    }
    data.update(changes)
    return data


def submitted(org, targets) -> Proposal:
    return services.proposal_create(
        author=org.alice,
        target=targets["alice"],
        proposed_base=Decimal(800),
        proposed_stretch=Decimal(1200),
        reason="competitor_price",
        submit=True,
    )


def test_a_rep_drafts_a_proposal_for_their_own_target(api, org, targets):
    response = api(org.alice).post(URL, body(targets["alice"]), format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "draft"
    assert response.json()["author"] == org.alice.pk


def test_a_rep_cannot_propose_for_someone_elses_target(api, org, targets):
    # Dave's target is not visible to Alice: it does not exist for her.
    assert api(org.alice).post(URL, body(targets["dave"]), format="json").status_code == 404
    # Her team's target is visible to her manager, not to her.
    assert api(org.alice).post(URL, body(targets["east1"]), format="json").status_code == 404


def test_a_manager_proposes_for_a_unit_they_manage_but_not_for_a_reps_target(api, org, targets):
    assert api(org.mgr_east).post(URL, body(targets["east1"]), format="json").status_code == 201
    assert api(org.mgr_east).post(URL, body(targets["alice"]), format="json").status_code == 403


def test_bad_amounts_and_reasons_are_400s_and_write_nothing(api, org, targets):
    for changes, field in (
        ({"proposed_stretch": "100"}, "proposed_stretch"),
        ({"proposed_base": "-1"}, "proposed_base"),
        ({"reason": "weather"}, "reason"),
        ({"proposed_base": "lots"}, "proposed_base"),
    ):
        response = api(org.alice).post(URL, body(targets["alice"], **changes), format="json")
        assert response.status_code == 400, changes
        assert field in response.json()
    assert not Proposal.objects.exists()


def test_submitting_tells_the_hrbp_and_the_director(api, org, targets):
    draft = api(org.alice).post(URL, body(targets["alice"]), format="json").json()
    response = api(org.alice).post(f"{URL}{draft['id']}/submit/")
    assert response.status_code == 200
    assert response.json()["status"] == "submitted"
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {
        "hrbp",
        "director",
    }


def test_submitting_twice_is_a_conflict(api, org, targets):
    proposal = submitted(org, targets)
    assert api(org.alice).post(f"{URL}{proposal.pk}/submit/").status_code == 409


def test_approval_writes_a_revision_and_tells_the_author(api, org, targets):
    proposal = submitted(org, targets)
    response = api(org.hrbp).post(f"{URL}{proposal.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    target = targets["alice"]
    target.refresh_from_db()
    assert (target.base, target.stretch) == (Decimal(800), Decimal(1200))
    assert (target.original_base, target.original_stretch) == (Decimal(1000), Decimal(1500))
    revision = TargetRevision.objects.get(target=target)
    assert revision.decided_by == org.hrbp
    assert response.json()["revision"] == revision.pk
    assert Notification.objects.filter(recipient=org.alice, kind="proposal_approved").exists()
    # The revision API names the proposal that caused it.
    revisions = api(org.hrbp).get(f"/api/v1/targets/{target.pk}/revisions/").json()
    assert revisions["results"][0]["proposal"] == proposal.pk


def test_rejection_needs_a_note(api, org, targets):
    proposal = submitted(org, targets)
    response = api(org.director).post(f"{URL}{proposal.pk}/decide/", {"decision": "reject"})
    assert response.status_code == 400
    assert "note" in response.json()
    response = api(org.director).post(
        f"{URL}{proposal.pk}/decide/", {"decision": "reject", "note": "市场仍在增长"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert not TargetRevision.objects.exists()
    note = Notification.objects.get(recipient=org.alice, kind="proposal_rejected").note
    assert note == "市场仍在增长"


def test_a_second_decision_is_a_conflict(api, org, targets):
    proposal = submitted(org, targets)
    assert (
        api(org.hrbp).post(f"{URL}{proposal.pk}/decide/", {"decision": "approve"}).status_code
        == 200
    )
    second = api(org.director).post(
        f"{URL}{proposal.pk}/decide/", {"decision": "reject", "note": "no"}
    )
    assert second.status_code == 409
    assert "approved" in second.json()["detail"].lower() or second.json()["detail"]
    assert TargetRevision.objects.count() == 1


@pytest.mark.parametrize("persona", ["alice", "admin", "finance", "mgr_east", "bob"])
def test_only_the_hrbp_or_a_director_decides(api, org, targets, persona):
    proposal = submitted(org, targets)
    response = api(getattr(org, persona)).post(
        f"{URL}{proposal.pk}/decide/", {"decision": "approve"}
    )
    # Bob cannot see Alice's proposal at all; the others see it but may not decide.
    assert response.status_code == (404 if persona == "bob" else 403)
    assert Proposal.objects.get().status == ProposalStatus.SUBMITTED


def test_a_regional_hrbp_decides_only_in_their_region(api, org, targets):
    north_hrbp = make_user("north_hrbp", roles=[(Role.HRBP, org.north)])
    proposal = submitted(org, targets)
    assert (
        api(north_hrbp).post(f"{URL}{proposal.pk}/decide/", {"decision": "approve"}).status_code
        == 404
    )


def test_the_author_cannot_decide_even_as_a_director(api, org, targets):
    boss = make_user(
        "boss", roles=[(Role.SALES_DIRECTOR, org.company), (Role.SALES_MANAGER, org.east)]
    )
    proposal = services.proposal_create(
        author=boss,
        target=targets["east1"],
        proposed_base=Decimal(4000),
        proposed_stretch=Decimal(5000),
        reason="capacity",
        submit=True,
    )
    assert api(boss).post(f"{URL}{proposal.pk}/decide/", {"decision": "approve"}).status_code == 403


def test_withdraw_before_a_decision_only(api, org, targets):
    proposal = submitted(org, targets)
    assert api(org.alice).post(f"{URL}{proposal.pk}/withdraw/").status_code == 200
    assert api(org.alice).post(f"{URL}{proposal.pk}/withdraw/").status_code == 409
    assert (
        api(org.hrbp).post(f"{URL}{proposal.pk}/decide/", {"decision": "approve"}).status_code
        == 409
    )


def test_only_own_drafts_can_be_edited_or_deleted(api, org, targets):
    draft = api(org.alice).post(URL, body(targets["alice"]), format="json").json()
    url = f"{URL}{draft['id']}/"
    assert (
        api(org.alice).patch(url, {"proposed_base": "900"}, format="json").json()["proposed_base"]
        == "900.00"
    )
    # Someone else's draft does not exist for them.
    assert api(org.hrbp).patch(url, {"proposed_base": "1"}, format="json").status_code == 404
    api(org.alice).post(f"{url}submit/")
    assert api(org.alice).patch(url, {"proposed_base": "1"}, format="json").status_code == 409
    assert api(org.alice).delete(url).status_code == 409


def test_lists_are_scoped(api, org, targets):
    submitted(org, targets)
    api(org.bob).post(URL, body(targets["alice"]), format="json")  # not his: refused
    assert api(org.alice).get(URL).json()["count"] == 1
    assert api(org.hrbp).get(URL).json()["count"] == 1
    assert api(org.dave).get(URL).json()["count"] == 0
    assert api(org.hrbp).get(URL, {"status": "submitted"}).json()["count"] == 1
    assert api(org.hrbp).get(URL, {"status": "approved"}).json()["count"] == 0


def test_wrong_methods_and_anonymous_callers(api, org, targets):
    proposal = submitted(org, targets)
    assert api(None).get(URL).status_code == 401
    assert api(org.hrbp).get(f"{URL}{proposal.pk}/decide/").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_two_decisions_racing_on_postgresql_end_in_one_winner(org, targets):
    require_service("PostgreSQL", connection.vendor == "postgresql", hint="set DATABASE_URL")
    proposal = submitted(org, targets)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(user, decision):
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            services.proposal_decide(proposal=proposal, by=user, decision=decision, note="n")
            outcomes.append("won")
        except StateConflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=decide, args=(org.hrbp, "approve")),
        threading.Thread(target=decide, args=(org.director, "reject")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "won"]
    proposal.refresh_from_db()
    assert proposal.status in {ProposalStatus.APPROVED, ProposalStatus.REJECTED}
    assert TargetRevision.objects.count() == (1 if proposal.status == "approved" else 0)
