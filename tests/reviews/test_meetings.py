"""Monthly target-health review meetings through API v1 (SPEC §6, §10 `reviews/`)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from reviews import meetings, services
from reviews.models import (
    AdjustmentCase,
    AgendaItem,
    ProposalStatus,
    ReviewMeeting,
)
from targets import services as target_services
from targets.errors import StateConflict
from targets.models import Role, TargetRevision
from tests.factories import DealFactory, make_user
from tests.services import require_service

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_may_2025")]
URL = "/api/v1/reviews/"


@pytest.fixture
def targets(org):
    made = {
        name: target_services.target_create(
            period="2025Q2", owner_user=user, base=Decimal(1_000_000), stretch=Decimal(1_500_000)
        )
        for name, user in [("alice", org.alice), ("bob", org.bob), ("dave", org.dave)]
    }
    # Bob is on pace (green); Alice and Dave sold nothing (red).
    DealFactory(owner=org.bob, amount=Decimal(900_000))
    return made


@pytest.fixture
def people(org):
    return {
        "hrbp_north": make_user("hrbp_north", roles=[(Role.HRBP, org.north)]),
        "hrbp_east": make_user("hrbp_east", roles=[(Role.HRBP, org.east)]),
    }


def create(api, org, **changes):
    body = {"unit": org.east.pk, "month": "2025-05", "members": [org.mgr_east.pk, org.finance.pk]}
    body.update(changes)
    return api(org.hrbp).post(URL, body, format="json")


@pytest.fixture
def meeting(api, org, targets):
    response = create(api, org)
    assert response.status_code == 201, response.json()
    return ReviewMeeting.objects.get(pk=response.json()["id"])


def items_url(meeting, item=None):
    return f"{URL}{meeting.pk}/items/" + (f"{item.pk}/" if item else "")


def item_of(meeting, target) -> AgendaItem:
    return meeting.items.get(target=target, kind="red_target")


# Creating and the agenda ------------------------------------------------------------


def test_the_hrbp_creates_a_review_and_its_agenda_holds_the_units_red_targets(
    api, org, targets, meeting
):
    data = api(org.hrbp).get(f"{URL}{meeting.pk}/").json()
    assert data["chair"] == org.hrbp.pk
    assert sorted(data["members"]) == sorted([org.mgr_east.pk, org.finance.pk])
    assert data["state"] == "open"
    # Alice is red and in East; Bob is on track; Dave is red but in North.
    assert [(i["kind"], i["target"]) for i in data["agenda"]] == [
        ("red_target", targets["alice"].pk)
    ]


def test_the_agenda_takes_open_cases_and_submitted_proposals_and_refreshes(
    api, org, targets, meeting
):
    proposal = services.proposal_create(
        author=org.bob,
        target=targets["bob"],
        proposed_base=Decimal(900_000),
        proposed_stretch=Decimal(1_200_000),
        reason="competitor_price",
        submit=True,
    )
    services.proposal_create(  # a draft is nobody's business yet
        author=org.alice,
        target=targets["alice"],
        proposed_base=Decimal(1),
        proposed_stretch=Decimal(2),
        reason="other",
    )
    case = AdjustmentCase.objects.create(
        target=targets["bob"],
        indicator="revenue_pace",
        opened_at="2025-05-19T06:00Z",
        opened_week="2025-W21",
    )
    response = api(org.hrbp).post(f"{URL}{meeting.pk}/refresh/")
    assert response.status_code == 200
    kinds = [(i["kind"], i["target"], i["proposal"], i["case"]) for i in response.json()["agenda"]]
    assert kinds == [
        ("red_target", targets["alice"].pk, None, None),
        ("case", targets["bob"].pk, None, case.pk),
        ("proposal", targets["bob"].pk, proposal.pk, None),
    ]
    # Refreshing again adds nothing twice.
    assert len(api(org.hrbp).post(f"{URL}{meeting.pk}/refresh/").json()["agenda"]) == 3


def test_one_review_per_unit_and_month_and_a_readable_month(api, org, targets, meeting):
    assert create(api, org).status_code == 400
    assert create(api, org, month="2025-13").json()["month"]
    assert create(api, org, month="May").status_code == 400


def test_members_must_see_the_units_figures(api, org, targets):
    response = create(api, org, members=[org.dave.pk])
    assert response.status_code == 400
    assert "members" in response.json()


# Who may do what ----------------------------------------------------------------------


def test_only_an_hrbp_over_the_unit_creates_a_review(api, org, targets, people):
    body = {"unit": org.east.pk, "month": "2025-05", "members": []}
    assert api(org.finance).post(URL, body, format="json").status_code == 403
    assert api(org.director).post(URL, body, format="json").status_code == 403
    assert api(org.alice).post(URL, body, format="json").status_code == 403
    assert api(people["hrbp_north"]).post(URL, body, format="json").status_code == 403
    assert api(people["hrbp_east"]).post(URL, body, format="json").status_code == 201


def test_outsiders_do_not_see_a_review(api, org, targets, meeting, people):
    for outsider in (org.alice, org.dave, org.director, people["hrbp_north"]):
        assert api(outsider).get(f"{URL}{meeting.pk}/").status_code == 404
        assert api(outsider).get(items_url(meeting)).status_code == 404
        assert api(outsider).get(URL).json()["count"] == 0
    for insider in (org.hrbp, org.finance, org.mgr_east, people["hrbp_east"]):
        assert api(insider).get(f"{URL}{meeting.pk}/").status_code == 200
    assert api(None).get(URL).status_code == 401


def test_a_finance_member_scores_but_does_not_decide(api, org, targets, meeting):
    item = item_of(meeting, targets["alice"])
    scored = api(org.finance).patch(
        items_url(meeting, item),
        {"scores": {"market": 2, "customer": 3, "capacity": 4}, "notes": "回款慢"},
        format="json",
    )
    assert scored.status_code == 200, scored.json()
    assert scored.json()["member_scores"] == [
        {
            "user": org.finance.pk,
            "user_name": "Finance",
            "market": 2,
            "customer": 3,
            "capacity": 4,
            "notes": "回款慢",
        }
    ]
    decided = api(org.finance).patch(items_url(meeting, item), {"decision": "keep"}, format="json")
    assert decided.status_code == 403


def test_scores_read_as_the_members_mean_and_each_writes_only_their_own(api, org, targets, meeting):
    item = item_of(meeting, targets["alice"])
    url = items_url(meeting, item)
    api(org.finance).patch(
        url, {"scores": {"market": 2, "customer": 3, "capacity": 4}}, format="json"
    )
    api(org.mgr_east).patch(
        url, {"scores": {"market": 3, "customer": 3, "capacity": 5}}, format="json"
    )
    api(org.finance).patch(url, {"notes": "later"}, format="json")  # leaves the scores be
    data = api(org.hrbp).get(url).json()
    assert data["scores"] == {"market": "2.5", "customer": "3.0", "capacity": "4.5"}
    assert [(m["user"], m["market"], m["notes"]) for m in data["member_scores"]] == [
        (org.finance.pk, 2, "later"),
        (org.mgr_east.pk, 3, ""),
    ]


@pytest.mark.parametrize("bad", [0, 6, "x", 2.5])
def test_scores_outside_one_to_five_are_refused(api, org, targets, meeting, bad):
    item = item_of(meeting, targets["alice"])
    response = api(org.finance).patch(
        items_url(meeting, item), {"scores": {"market": bad}}, format="json"
    )
    assert response.status_code == 400
    assert "scores" in response.json()


def test_an_hrbp_who_is_not_a_participant_reads_but_does_not_score(
    api, org, targets, meeting, people
):
    item = item_of(meeting, targets["alice"])
    response = api(people["hrbp_east"]).patch(
        items_url(meeting, item), {"scores": {"market": 3}}, format="json"
    )
    assert response.status_code == 403


def test_wrong_methods(api, org, targets, meeting):
    item = item_of(meeting, targets["alice"])
    assert api(org.hrbp).get(f"{URL}{meeting.pk}/close/").status_code == 405
    assert api(org.hrbp).put(items_url(meeting, item), {}, format="json").status_code == 405
    assert api(org.hrbp).delete(items_url(meeting, item)).status_code == 405


# Decisions ----------------------------------------------------------------------------


def test_adjust_writes_one_revision_and_a_second_decision_conflicts(api, org, targets, meeting):
    item = item_of(meeting, targets["alice"])
    url = items_url(meeting, item)
    body = {
        "decision": "adjust",
        "new_base": "800000",
        "new_stretch": "1200000",
        "decision_note": "市场下滑",
    }
    response = api(org.hrbp).patch(url, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["decision"] == "adjust"
    assert response.json()["revision"]
    targets["alice"].refresh_from_db()
    assert targets["alice"].base == Decimal(800_000)
    revision = TargetRevision.objects.get(target=targets["alice"])
    assert "市场下滑" in revision.reason
    again = api(org.hrbp).patch(url, {**body, "new_base": "700000"}, format="json")
    assert again.status_code == 409
    assert api(org.hrbp).patch(url, {"decision": "keep"}, format="json").status_code == 409
    assert TargetRevision.objects.count() == 1


def test_adjust_needs_valid_amounts(api, org, targets, meeting):
    url = items_url(meeting, item_of(meeting, targets["alice"]))
    missing = api(org.hrbp).patch(url, {"decision": "adjust"}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()) == {"new_base", "new_stretch"}
    below = api(org.hrbp).patch(
        url, {"decision": "adjust", "new_base": "900", "new_stretch": "800"}, format="json"
    )
    assert below.status_code == 400
    assert "new_stretch" in below.json()
    assert AgendaItem.objects.get(pk=item_of(meeting, targets["alice"]).pk).decision == ""


def test_keep_and_defer_may_change_until_the_meeting_closes(api, org, targets, meeting):
    url = items_url(meeting, item_of(meeting, targets["alice"]))
    assert api(org.hrbp).patch(url, {"decision": "keep"}, format="json").status_code == 200
    assert (
        api(org.hrbp).patch(url, {"decision": "defer"}, format="json").json()["decision"] == "defer"
    )


def test_adjusting_a_proposal_item_approves_the_proposal_through_its_decision(
    api, org, targets, meeting
):
    proposal = services.proposal_create(
        author=org.alice,
        target=targets["alice"],
        proposed_base=Decimal(700_000),
        proposed_stretch=Decimal(1_000_000),
        reason="purchase_cycle",
        submit=True,
    )
    meetings.agenda_refresh(meeting=meeting, by=org.hrbp, today=meeting.created_at.date())
    item = meeting.items.get(kind="proposal")
    url = items_url(meeting, item)
    other = api(org.hrbp).patch(
        url, {"decision": "adjust", "new_base": "1", "new_stretch": "2"}, format="json"
    )
    assert other.status_code == 400
    response = api(org.hrbp).patch(url, {"decision": "adjust"}, format="json")
    assert response.status_code == 200, response.json()
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPROVED
    assert proposal.decided_by == org.hrbp
    assert response.json()["revision"] == proposal.revision_id
    assert TargetRevision.objects.count() == 1
    assert (response.json()["new_base"], response.json()["new_stretch"]) == (
        "700000.00",
        "1000000.00",
    )


def test_keeping_a_proposal_item_rejects_the_proposal(api, org, targets, meeting):
    proposal = services.proposal_create(
        author=org.alice,
        target=targets["alice"],
        proposed_base=Decimal(700_000),
        proposed_stretch=Decimal(1_000_000),
        reason="purchase_cycle",
        submit=True,
    )
    api(org.hrbp).post(f"{URL}{meeting.pk}/refresh/")
    url = items_url(meeting, meeting.items.get(kind="proposal"))
    assert api(org.hrbp).patch(url, {"decision": "keep"}, format="json").status_code == 200
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.REJECTED
    assert proposal.decision_note
    assert api(org.hrbp).patch(url, {"decision": "defer"}, format="json").status_code == 409


def test_a_proposal_decided_elsewhere_cannot_be_decided_again_in_the_meeting(
    api, org, targets, meeting
):
    proposal = services.proposal_create(
        author=org.alice,
        target=targets["alice"],
        proposed_base=Decimal(700_000),
        proposed_stretch=Decimal(1_000_000),
        reason="purchase_cycle",
        submit=True,
    )
    api(org.hrbp).post(f"{URL}{meeting.pk}/refresh/")
    services.proposal_decide(proposal=proposal, by=org.director, decision="reject", note="no")
    url = items_url(meeting, meeting.items.get(kind="proposal"))
    assert api(org.hrbp).patch(url, {"decision": "adjust"}, format="json").status_code == 409
    assert meeting.items.get(kind="proposal").decision == ""


def test_the_chair_reorders_the_agenda(api, org, targets, meeting):
    AdjustmentCase.objects.create(
        target=targets["bob"],
        indicator="revenue_pace",
        opened_at="2025-05-19T06:00Z",
        opened_week="2025-W21",
    )
    api(org.hrbp).post(f"{URL}{meeting.pk}/refresh/")
    case_item = meeting.items.get(kind="case")
    moved = api(org.hrbp).patch(items_url(meeting, case_item), {"position": 1}, format="json")
    assert moved.status_code == 200
    listed = api(org.finance).get(items_url(meeting)).json()["results"]
    assert [i["kind"] for i in listed] == ["case", "red_target"]
    assert (
        api(org.finance)
        .patch(items_url(meeting, case_item), {"position": 2}, format="json")
        .status_code
        == 403
    )


# Closing, deferring -------------------------------------------------------------------


def test_a_closed_review_answers_409_to_every_change(api, org, targets, meeting):
    item = item_of(meeting, targets["alice"])
    assert api(org.finance).post(f"{URL}{meeting.pk}/close/").status_code == 403
    closed = api(org.hrbp).post(f"{URL}{meeting.pk}/close/")
    assert closed.status_code == 200
    assert closed.json()["state"] == "closed"
    url = items_url(meeting, item)
    assert api(org.hrbp).patch(url, {"decision": "keep"}, format="json").status_code == 409
    assert api(org.finance).patch(url, {"scores": {"market": 3}}, format="json").status_code == 409
    assert api(org.hrbp).patch(url, {"position": 1}, format="json").status_code == 409
    assert api(org.hrbp).post(f"{URL}{meeting.pk}/close/").status_code == 409
    assert api(org.hrbp).post(f"{URL}{meeting.pk}/refresh/").status_code == 409
    assert (
        api(org.hrbp).patch(f"{URL}{meeting.pk}/", {"members": []}, format="json").status_code
        == 409
    )
    assert api(org.hrbp).delete(f"{URL}{meeting.pk}/").status_code == 409


def test_closing_freezes_the_minutes(api, org, targets, meeting):
    item = item_of(meeting, targets["alice"])
    api(org.finance).patch(items_url(meeting, item), {"scores": {"market": 4}}, format="json")
    api(org.hrbp).patch(
        items_url(meeting, item), {"decision": "keep", "decision_note": "观察"}, format="json"
    )
    api(org.hrbp).post(f"{URL}{meeting.pk}/close/")
    meeting.refresh_from_db()
    frozen = meeting.minutes
    assert frozen["items"][0]["decision"] == "keep"
    assert frozen["items"][0]["member_scores"][0]["market"] == 4
    # Later changes of the target do not reach the minutes.
    target_services.target_revise(
        target=targets["alice"],
        base=Decimal(1),
        stretch=Decimal(2),
        reason="x",
        decided_by=org.director,
    )
    meeting.refresh_from_db()
    assert meeting.minutes == frozen


def test_a_deferred_item_is_on_next_months_agenda(api, org, targets, meeting):
    proposal = services.proposal_create(
        author=org.alice,
        target=targets["alice"],
        proposed_base=Decimal(700_000),
        proposed_stretch=Decimal(1_000_000),
        reason="purchase_cycle",
        submit=True,
    )
    api(org.hrbp).post(f"{URL}{meeting.pk}/refresh/")
    item = meeting.items.get(kind="proposal")
    api(org.hrbp).patch(items_url(meeting, item), {"decision": "defer"}, format="json")
    api(org.hrbp).post(f"{URL}{meeting.pk}/close/")
    june = create(api, org, month="2025-06")
    assert june.status_code == 201
    carried = AgendaItem.objects.get(meeting_id=june.json()["id"], kind="proposal")
    assert carried.proposal == proposal
    assert carried.carried_from == item
    assert carried.position == 1
    # Not carried to another unit's review or into a later month than the next.
    assert not AgendaItem.objects.filter(
        meeting_id=create(api, org, month="2025-07").json()["id"],
        kind="proposal",
        carried_from=item,
    ).exists()


def test_the_chair_changes_members_and_deletes_an_open_review(api, org, targets, meeting):
    url = f"{URL}{meeting.pk}/"
    assert api(org.finance).patch(url, {"members": []}, format="json").status_code == 403
    response = api(org.hrbp).patch(url, {"members": [org.finance.pk]}, format="json")
    assert response.status_code == 200
    assert response.json()["members"] == [org.finance.pk]
    assert api(org.mgr_east).get(url).status_code == 404
    assert api(org.hrbp).delete(url).status_code == 204


# Exactly once, for real -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_adjustments_racing_on_postgresql_write_one_revision(org, targets):
    require_service("PostgreSQL", connection.vendor == "postgresql", hint="set DATABASE_URL")
    from django.utils import timezone

    meeting = meetings.meeting_create(
        chair=org.hrbp,
        unit=org.east,
        month="2025-05",
        members=[org.finance],
        today=timezone.localdate(),
    )
    item = item_of(meeting, targets["alice"])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(base):
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            meetings.item_decide(
                item=item,
                by=org.hrbp,
                decision="adjust",
                new_base=Decimal(base),
                new_stretch=Decimal(base),
            )
            outcomes.append("won")
        except StateConflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=(b,)) for b in (700_000, 800_000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "won"]
    assert TargetRevision.objects.filter(target=targets["alice"]).count() == 1
    item.refresh_from_db()
    targets["alice"].refresh_from_db()
    assert targets["alice"].base == item.new_base


def test_a_case_on_the_agenda_names_its_review(api, org, targets, meeting):
    case = AdjustmentCase.objects.create(
        target=targets["bob"],
        indicator="revenue_pace",
        opened_at="2025-05-19T06:00Z",
        opened_week="2025-W21",
    )
    listed = api(org.hrbp).get("/api/v1/cases/").json()["results"]
    assert [(c["id"], c["review"]) for c in listed] == [(case.pk, None)]
    api(org.hrbp).post(f"{URL}{meeting.pk}/refresh/")
    listed = api(org.hrbp).get("/api/v1/cases/").json()["results"]
    assert [(c["id"], c["review"]) for c in listed] == [(case.pk, meeting.pk)]


def test_listing_reviews_and_items_costs_the_same_queries_however_many(api, org, targets, meeting):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    client = api(org.hrbp)

    def cost(url: str) -> int:
        with CaptureQueriesContext(db) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = (cost(URL), cost(items_url(meeting)))
    AdjustmentCase.objects.create(
        target=targets["bob"],
        indicator="revenue_pace",
        opened_at="2025-05-19T06:00Z",
        opened_week="2025-W21",
    )
    client.post(f"{URL}{meeting.pk}/refresh/")
    assert create(api, org, month="2025-06").status_code == 201
    for item in meeting.items.all():
        for user in (org.finance, org.mgr_east):
            api(user).patch(items_url(meeting, item), {"scores": {"market": 3}}, format="json")
    assert (cost(URL), cost(items_url(meeting))) == before


def test_another_companys_unit_or_people_are_unknown(api, org, targets):
    from tests.factories import make_rep, make_unit

    other = make_unit("Globex", "company")
    stranger = make_rep("stranger", make_unit("Globex-1", "team", other))
    assert "unit" in create(api, org, unit=other.pk).json()
    assert "members" in create(api, org, members=[stranger.pk]).json()
    assert "members" in create(api, org, members=[999_999]).json()


def test_closing_settles_the_cases_the_review_kept_or_adjusted_and_leaves_deferred_ones(
    api, org, targets, meeting
):
    from reviews.deviations import case_open
    from reviews.models import IndicatorState

    kept = case_open(target=targets["bob"], indicator="revenue_pace", week="2025-W20", weeks=[])
    deferred = case_open(
        target=targets["alice"], indicator="revenue_pace", week="2025-W20", weeks=[]
    )
    api(org.hrbp).post(f"{URL}{meeting.pk}/refresh/")
    items = {i.case_id: i for i in meeting.items.filter(case__isnull=False)}
    api(org.hrbp).patch(items_url(meeting, items[kept.pk]), {"decision": "keep"}, format="json")
    api(org.hrbp).patch(
        items_url(meeting, items[deferred.pk]), {"decision": "defer"}, format="json"
    )
    assert api(org.hrbp).post(f"{URL}{meeting.pk}/close/").status_code == 200
    kept.refresh_from_db()
    deferred.refresh_from_db()
    assert (kept.state, deferred.state) == ("closed", "open")
    assert kept.closed_at is not None
    assert IndicatorState.objects.get(target=targets["bob"]).state == "normal"
    assert IndicatorState.objects.get(target=targets["alice"]).state == "case_open"
