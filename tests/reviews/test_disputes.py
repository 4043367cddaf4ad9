"""Flags on wrong actuals (issue 6 §5): a rep flags, the manager resolves exactly once."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from alerts.models import Notification, NotificationKind
from reviews.disputes import services
from reviews.disputes.selectors import open_disputes_for_unit
from reviews.models import ActualDispute, DisputeState
from targets.errors import StateConflict, ValidationError
from targets.services import Split
from tests.factories import DealFactory
from tests.services import require_service

URL = "/api/v1/disputes/"


@pytest.fixture(autouse=True)
def _may_2025():
    with time_machine.travel(date(2025, 5, 20), tick=False):
        yield


@pytest.fixture
def deals(org):
    return {
        "alice": DealFactory(owner=org.alice, amount=Decimal(400), close_date=date(2025, 5, 2)),
        "shared": DealFactory(
            owner=org.bob,
            amount=Decimal(1000),
            close_date=date(2025, 5, 5),
            splits=[
                Split(org.bob, Decimal(60)),
                Split(org.alice, Decimal(40)),
            ],
        ),
        "dave": DealFactory(owner=org.dave, amount=Decimal(700), close_date=date(2025, 5, 3)),
        "carol": DealFactory(owner=org.carol, amount=Decimal(300), close_date=date(2025, 5, 4)),
    }


def flag(org, deal, **changes) -> ActualDispute:
    data = {"author": org.alice, "kind": "wrong_amount", "comment": "合同金额是 500", "deal": deal}
    data.update(changes)
    return services.dispute_create(**data)


# Raising a flag ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_rep_flags_her_own_deal_and_her_manager_is_told(api, org, deals):
    response = api(org.alice).post(
        URL,
        {"kind": "wrong_amount", "deal": deals["alice"].pk, "comment": "合同金额是 500"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "open"
    assert body["account"] == deals["alice"].account
    assert body["amount"] == "400.00"
    assert body["team"] == org.east1.pk
    notices = Notification.objects.filter(kind=NotificationKind.DISPUTE_OPENED)
    assert [n.recipient for n in notices] == [org.mgr_east]
    assert notices[0].subject_id == body["id"]


@pytest.mark.django_db
def test_a_rep_flags_her_credit_split_of_a_colleagues_deal(api, org, deals):
    response = api(org.alice).post(
        URL,
        {
            "kind": "wrong_owner",
            "deal": deals["shared"].pk,
            "split_user": org.alice.pk,
            "comment": "我负责了 80%",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["split_user"] == org.alice.pk


@pytest.mark.django_db
def test_a_split_of_a_rep_without_a_share_is_refused(api, org, deals):
    response = api(org.alice).post(
        URL,
        {
            "kind": "wrong_owner",
            "deal": deals["alice"].pk,
            "split_user": org.bob.pk,
            "comment": "x",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "split_user" in response.json()


@pytest.mark.django_db
def test_a_rep_cannot_flag_a_deal_she_does_not_see(api, org, deals):
    response = api(org.alice).post(
        URL, {"kind": "wrong_date", "deal": deals["dave"].pk, "comment": "x"}, format="json"
    )
    assert response.status_code == 404


@pytest.mark.django_db
def test_only_reps_flag_and_only_their_own_deals(api, org, deals):
    body = {"kind": "wrong_date", "deal": deals["carol"].pk, "comment": "x"}
    # The manager sees Carol's deal but flags nothing: it is not theirs.
    assert api(org.mgr_east).post(URL, body, format="json").status_code == 403
    assert api(org.admin).post(URL, body, format="json").status_code == 403


@pytest.mark.django_db
def test_a_missing_deal_is_named_by_account_amount_and_date(api, org):
    response = api(org.alice).post(
        URL,
        {
            "kind": "missing_deal",
            "account": "华为技术",
            "amount": "65000",
            "close_date": "2025-05-10",
            "comment": "CRM 里没有同步过来",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["deal"] is None
    assert response.json()["team"] == org.east1.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"account": ""}, "account"),
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"close_date": "2025-06-01"}, "close_date"),
        ({"close_date": "2024-12-31"}, "close_date"),
        ({"close_date": "2025-13-01"}, "close_date"),
        ({"comment": "  "}, "comment"),
        ({"kind": "wrong_vibes"}, "kind"),
    ],
)
def test_bad_missing_deal_flags_answer_400_with_the_field(api, org, changes, field):
    body = {
        "kind": "missing_deal",
        "account": "华为技术",
        "amount": "65000",
        "close_date": "2025-05-10",
        "comment": "没有同步",
    }
    body.update(changes)
    response = api(org.alice).post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.django_db
def test_a_deal_flag_needs_a_deal_and_a_missing_deal_has_none(api, org, deals):
    no_deal = api(org.alice).post(URL, {"kind": "wrong_amount", "comment": "x"}, format="json")
    assert no_deal.status_code == 400 and "deal" in no_deal.json()
    with_deal = api(org.alice).post(
        URL,
        {
            "kind": "missing_deal",
            "deal": deals["alice"].pk,
            "account": "a",
            "amount": "1",
            "close_date": "2025-05-01",
            "comment": "x",
        },
        format="json",
    )
    assert with_deal.status_code == 400 and "deal" in with_deal.json()


@pytest.mark.django_db
def test_the_same_open_flag_twice_is_refused(org, deals):
    flag(org, deals["alice"])
    with pytest.raises(ValidationError):
        flag(org, deals["alice"])
    assert ActualDispute.objects.count() == 1


# Who sees what -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_is_scoped(api, org, deals):
    mine = flag(org, deals["alice"])
    daves = services.dispute_create(
        author=org.dave, kind="wrong_date", comment="x", deal=deals["dave"]
    )

    def ids(user):
        return {row["id"] for row in api(user).get(URL).json()["results"]}

    assert ids(org.alice) == {mine.pk}
    assert ids(org.bob) == set()
    assert ids(org.mgr_east) == {mine.pk}
    assert ids(org.hrbp) == {mine.pk, daves.pk}
    assert ids(org.director) == {mine.pk, daves.pk}
    assert api(org.bob).get(f"{URL}{mine.pk}/").status_code == 404
    assert api(None).get(URL).status_code == 401


# Resolving -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_manager_resolves_once_and_the_rep_sees_it(api, org, deals):
    dispute = flag(org, deals["alice"])
    url = f"{URL}{dispute.pk}/resolve/"
    response = api(org.mgr_east).post(
        url, {"resolution": "corrected", "note": "ERP 已更正"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "corrected"
    assert response.json()["resolved_by"] == org.mgr_east.pk
    again = api(org.hrbp).post(url, {"resolution": "rejected", "note": "no"}, format="json")
    assert again.status_code == 409
    assert "already been resolved" in again.json()["detail"] or again.json()["detail"]
    seen = api(org.alice).get(f"{URL}{dispute.pk}/").json()
    assert (seen["state"], seen["resolution_note"]) == ("corrected", "ERP 已更正")
    assert Notification.objects.filter(
        kind=NotificationKind.DISPUTE_RESOLVED, recipient=org.alice
    ).exists()


@pytest.mark.django_db
def test_who_may_resolve(api, org, deals):
    dispute = flag(org, deals["alice"])
    url = f"{URL}{dispute.pk}/resolve/"
    body = {"resolution": "rejected", "note": "金额无误"}
    assert api(org.alice).post(url, body, format="json").status_code == 403  # the author
    assert api(org.bob).post(url, body, format="json").status_code == 404  # unseen
    assert api(org.finance).post(url, body, format="json").status_code == 403  # sees, no say
    assert api(org.admin).post(url, body, format="json").status_code == 403  # not an authority
    assert api(org.director).post(url, body, format="json").status_code == 200


@pytest.mark.django_db
def test_a_rejection_needs_a_note_and_the_resolution_must_be_known(api, org, deals):
    dispute = flag(org, deals["alice"])
    url = f"{URL}{dispute.pk}/resolve/"
    no_note = api(org.hrbp).post(url, {"resolution": "rejected"}, format="json")
    assert no_note.status_code == 400 and "note" in no_note.json()
    unknown = api(org.hrbp).post(url, {"resolution": "open"}, format="json")
    assert unknown.status_code == 400 and "resolution" in unknown.json()
    assert api(org.hrbp).get(url).status_code == 405
    assert api(org.hrbp).delete(f"{URL}{dispute.pk}/").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_two_resolutions_racing_on_postgresql_end_in_one_winner(org, deals):
    require_service("PostgreSQL", connection.vendor == "postgresql", hint="set DATABASE_URL")
    dispute = flag(org, deals["alice"])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def resolve(user, resolution):
        try:
            barrier.wait(timeout=10)
            services.dispute_resolve(dispute=dispute, by=user, resolution=resolution, note="n")
            outcomes.append("won")
        except StateConflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=resolve, args=(org.mgr_east, "corrected")),
        threading.Thread(target=resolve, args=(org.hrbp, "rejected")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "won"]
    dispute.refresh_from_db()
    assert dispute.state in {DisputeState.CORRECTED, DisputeState.REJECTED}
    assert dispute.history.count() == 2  # flagged, resolved once


# The review agenda's selector ------------------------------------------------------------


@pytest.mark.django_db
def test_open_flags_of_a_unit_for_a_month_in_one_query(org, deals):
    first = flag(org, deals["alice"])
    second = services.dispute_create(
        author=org.carol, kind="wrong_date", comment="x", deal=deals["carol"]
    )
    services.dispute_create(author=org.dave, kind="wrong_date", comment="x", deal=deals["dave"])
    resolved = flag(org, deals["shared"], kind="wrong_owner")
    services.dispute_resolve(dispute=resolved, by=org.mgr_east, resolution="corrected")
    with CaptureQueriesContext(connection) as queries:
        rows = list(open_disputes_for_unit(org.east, date(2025, 5, 1)))
        names = [(d.author.username, d.team.name) for d in rows]
    assert len(queries) == 1
    assert [d.pk for d in rows] == [first.pk, second.pk]
    assert names[0] == ("alice", "East-1")
    assert list(open_disputes_for_unit(org.east1.pk, "2025-05")) == [first]
    # Raised in May: not on April's agenda.
    assert list(open_disputes_for_unit(org.east, "2025-04")) == []


# Pages ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_rep_flags_from_the_deals_list_and_sees_the_answer(client, org, deals, language):
    client.force_login(org.alice)
    lang = {"HTTP_ACCEPT_LANGUAGE": language}
    html = client.get("/deals/", **lang).content.decode()
    assert f'href="/flags/new/?deal={deals["alice"].pk}"' in html
    assert f'href="/flags/new/?deal={deals["shared"].pk}"' in html
    assert f'href="/flags/new/?deal={deals["carol"].pk}"' not in html
    form = client.get(f"/flags/new/?deal={deals['alice'].pk}", **lang)
    assert form.status_code == 200
    assert ("标记交易" if language == "zh-hans" else "Flag a deal") in form.content.decode()
    posted = client.post(
        f"/flags/new/?deal={deals['alice'].pk}",
        {"kind": "wrong_amount", "comment": "应为 500"},
        **lang,
    )
    assert posted.status_code == 302
    dispute = ActualDispute.objects.get()
    assert 'data-testid="flagged"' in client.get("/deals/", **lang).content.decode()
    services.dispute_resolve(dispute=dispute, by=org.mgr_east, resolution="rejected", note="无误")
    mine = client.get("/flags/", **lang).content.decode()
    assert ("已驳回" if language == "zh-hans" else "Rejected") in mine
    detail = client.get(f"/flags/{dispute.pk}/", **lang).content.decode()
    assert "无误" in detail and 'data-testid="resolve"' not in detail


@pytest.mark.django_db
def test_a_missing_deal_form_shows_field_errors(client, org):
    client.force_login(org.alice)
    response = client.post(
        "/flags/new/", {"account": "A", "amount": "1万", "close_date": "2030-01-01", "comment": "x"}
    )
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()
    assert not ActualDispute.objects.exists()
    assert (
        client.post(
            "/flags/new/",
            {"account": "A", "amount": "1万", "close_date": "2025-05-01", "comment": "x"},
        ).status_code
        == 302
    )


@pytest.mark.django_db
def test_the_manager_resolves_from_the_queue_page(client, org, deals):
    dispute = flag(org, deals["alice"])
    client.force_login(org.mgr_east)
    queue = client.get("/flags/?tab=queue").content.decode()
    assert f"/flags/{dispute.pk}/" in queue
    assert 'data-testid="resolve"' in client.get(f"/flags/{dispute.pk}/").content.decode()
    response = client.post(f"/flags/{dispute.pk}/resolve/", {"resolution": "corrected"})
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.state == "corrected"
    # The second resolution is told, not a crash.
    again = client.post(f"/flags/{dispute.pk}/resolve/", {"resolution": "corrected"}, follow=True)
    assert "already been resolved" in again.content.decode() or "已被处理" in again.content.decode()


@pytest.mark.django_db
def test_flag_pages_refuse_outsiders_and_bad_input(client, org, deals):
    dispute = flag(org, deals["alice"])
    client.force_login(org.dave)
    assert client.get(f"/flags/{dispute.pk}/").status_code == 404
    assert (
        client.post(f"/flags/{dispute.pk}/resolve/", {"resolution": "corrected"}).status_code == 404
    )
    assert client.get(f"/flags/new/?deal={deals['alice'].pk}").status_code == 404
    assert client.get("/flags/new/?deal=abc").status_code == 400
    assert client.get("/flags/?tab=nope").status_code == 400
    assert client.get("/flags/?state=nope").status_code == 400
    assert client.get(f"/flags/{dispute.pk}/resolve/").status_code == 405
    client.force_login(org.mgr_east)
    assert client.get("/flags/new/").status_code == 403
    assert client.post(f"/flags/{dispute.pk}/resolve/", {"resolution": "maybe"}).status_code == 400
    client.force_login(org.alice)
    assert (
        client.post(f"/flags/{dispute.pk}/resolve/", {"resolution": "corrected"}).status_code == 403
    )


@pytest.mark.django_db
def test_the_target_page_offers_flag_on_the_reps_own_deals(client, org, deals):
    from targets import services as target_services

    target = target_services.target_create(
        period="2025Q2", owner_user=org.alice, base=Decimal(1000), stretch=Decimal(1500)
    )
    client.force_login(org.alice)
    html = client.get(f"/targets/{target.pk}/").content.decode()
    assert f'href="/flags/new/?deal={deals["alice"].pk}"' in html
    client.force_login(org.mgr_east)
    assert 'data-testid="flag"' not in client.get(f"/targets/{target.pk}/").content.decode()
