"""Effect metrics of the adjustment process (issue 6 §6): API and the company dashboard."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reviews import services
from reviews.effect import effect_metrics
from reviews.models import Proposal
from targets import services as target_services
from targets.periods import Quarter
from tests.factories import DealFactory, make_rep

pytestmark = pytest.mark.django_db
URL = "/api/v1/proposals/effect/"
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _may_2025():
    with time_machine.travel(datetime(2025, 5, 20, 12, tzinfo=TZ), tick=False) as traveller:
        yield traveller


def target(period, base, **owner):
    return target_services.target_create(
        period=period, base=Decimal(base), stretch=Decimal(base) * 2, **owner
    )


@pytest.fixture
def world(org):
    t = {
        "east": target("2025Q2", 10000, owner_unit=org.east),
        "north": target("2025Q2", 10000, owner_unit=org.north),
        "east_q1": target("2025Q1", 10000, owner_unit=org.east),
        "north_q1": target("2025Q1", 10000, owner_unit=org.north),
        "alice": target("2025Q2", 1000, owner_user=org.alice),
        "bob": target("2025Q2", 1000, owner_user=org.bob),
        "dave": target("2025Q2", 1000, owner_user=org.dave),
        "alice_q1": target("2025Q1", 1000, owner_user=org.alice),
    }
    DealFactory(owner=org.alice, amount=Decimal(400), close_date=date(2025, 4, 10))
    DealFactory(owner=org.dave, amount=Decimal(2000), close_date=date(2025, 4, 12))
    DealFactory(owner=org.alice, amount=Decimal(900), close_date=date(2025, 2, 10))
    return t


def propose(org, author, tgt, base, *, decide=None, by=None, hours=0, traveller=None):
    proposal = services.proposal_create(
        author=author,
        target=tgt,
        proposed_base=Decimal(base),
        proposed_stretch=Decimal(base) * 2,
        reason="competitor_price",
        submit=True,
    )
    if decide:
        if traveller is not None:
            traveller.shift(timedelta(hours=hours))
        services.proposal_decide(proposal=proposal, by=by or org.hrbp, decision=decide, note="n")
    return proposal


def test_the_metrics_count_proposals_decisions_and_their_effect(org, world, _may_2025):
    propose(org, org.alice, world["alice"], 500, decide="approve", hours=2, traveller=_may_2025)
    propose(org, org.bob, world["bob"], 800, decide="reject", hours=6, traveller=_may_2025)
    propose(org, org.dave, world["dave"], 900)
    # A draft is not a proposal yet.
    services.proposal_create(
        author=org.bob,
        target=world["bob"],
        proposed_base=Decimal(1),
        proposed_stretch=Decimal(2),
        reason="other",
    )
    propose(org, org.alice, world["alice_q1"], 900)
    effect = effect_metrics(
        unit=org.company, period=Quarter.parse("2025Q2"), as_of=date(2025, 5, 20)
    )
    assert (effect.proposals, effect.proposals_previous, effect.proposals_ratio) == (3, 1, 3)
    assert (effect.decided, effect.approved, effect.approved_share) == (2, 1, 50)
    assert effect.lead_time_median_hours == 4  # median of 2 h and 6 h
    regions = {row.name: (row.proposals, row.approved) for row in effect.by_region}
    assert regions == {org.east.name: (2, 1), org.north.name: (1, 0)}
    assert {r.id: r.proposals for r in effect.by_rep} == {
        org.alice.pk: 1,
        org.bob.pk: 1,
        org.dave.pk: 1,
    }
    # Alice's target: 400 against the original 1000 = 40 %, against the revised 500 = 80 %.
    assert effect.adjusted_targets == 1
    assert (effect.completion_original, effect.completion_adjusted) == (40, 80)


def test_volatility_compares_the_regions_this_quarter_and_the_last(org, world):
    effect = effect_metrics(
        unit=org.company, period=Quarter.parse("2025Q2"), as_of=date(2025, 5, 20)
    )
    # Q2 April: east 400/3333 = 12 %, north 2000/3333 = 60 % → spread; May: both 0.
    assert effect.volatility is not None and effect.volatility > 0
    # Q1: east 900 in Feb, north nothing.
    assert effect.volatility_previous is not None


def _queries(api_client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert api_client.get(URL, {"period": "2025Q2"}).status_code == 200
    return len(queries)


def test_the_metrics_cost_the_same_queries_for_few_and_many_proposals(api, org, world):
    client = api(org.director)
    _queries(client)  # warm: the first request of a process loads what it then keeps
    few = _queries(client)
    for i in range(6):
        rep = make_rep(f"rep{i}", org.east2)
        t = target("2025Q2", 1000, owner_user=rep)
        propose(org, rep, t, 700, decide="approve" if i % 2 else "reject")
    assert _queries(client) == few


def test_the_api_answers_by_role(api, org, world):
    propose(org, org.alice, world["alice"], 500, decide="approve")
    body = api(org.director).get(URL, {"period": "2025Q2"}).json()
    assert body["proposals"] == 1 and body["approved_share"] == "100.0"
    assert body["completion_original"] == "40.0" and body["completion_adjusted"] == "80.0"
    assert {r["name"] for r in body["by_region"]} == {org.east.name, org.north.name}
    assert api(org.hrbp).get(URL).status_code == 200
    east = api(org.mgr_east).get(URL, {"period": "2025Q2"}).json()
    assert east["unit"] == org.east.pk and [r["name"] for r in east["by_region"]] == [
        "East-1",
        "East-2",
    ]
    assert api(org.alice).get(URL).status_code == 403
    assert api(org.mgr_east).get(URL, {"unit": org.north.pk}).status_code == 403
    assert api(org.mgr_east).get(URL, {"unit": 10**9}).status_code == 404
    assert api(None).get(URL).status_code == 401
    assert api(org.director).post(URL, {}).status_code == 405


@pytest.mark.parametrize(
    "params", [{"period": "2025Q5"}, {"period": "soon"}, {"unit": "x"}, {"as_of": "2025-02-30"}]
)
def test_bad_parameters_answer_400(api, org, world, params):
    response = api(org.director).get(URL, params)
    assert response.status_code == 400
    assert set(params) <= set(response.json())


def test_the_route_is_not_taken_for_a_proposal_id(api, org, world):
    proposal = propose(org, org.alice, world["alice"], 500)
    assert api(org.alice).get(f"/api/v1/proposals/{proposal.pk}/").status_code == 200
    assert Proposal.objects.count() == 1


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_company_dashboard_shows_the_effect_to_who_sees_the_company(
    client, org, world, language
):
    propose(org, org.alice, world["alice"], 500, decide="approve")
    client.force_login(org.director)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    # The dashboard answers at once; the section follows by htmx from its own address.
    assert 'data-testid="effect-placeholder"' in html
    url = re.search(r'hx-get="(/proposals/effect/[^"]+)"', html)[1].replace("&amp;", "&")
    section = client.get(url, HTTP_ACCEPT_LANGUAGE=language, HTTP_HX_REQUEST="true")
    assert 'data-testid="effect"' in section.content.decode()
    assert ("目标调整效果" if language == "zh-hans" else "Effect of target adjustments") in (
        section.content.decode()
    )
    client.force_login(org.mgr_east)
    assert "effect-placeholder" not in client.get("/").content.decode()
    # A manager cannot read the company's section directly either.
    assert client.get(url).status_code == 403
    client.force_login(org.alice)
    assert "effect-placeholder" not in client.get("/").content.decode()


def test_the_effect_section_refuses_bad_input_with_a_400(client, org, world):
    client.force_login(org.director)
    assert client.get("/proposals/effect/").status_code == 400
    bad = client.get("/proposals/effect/", {"unit": org.company.pk, "period": "garbage"})
    assert bad.status_code == 400
    assert (
        client.get("/proposals/effect/", {"unit": 99999999, "period": "2025Q2"}).status_code == 404
    )
