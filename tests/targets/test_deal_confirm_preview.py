"""Confirming a manual deal shows first what it does to each credited rep's completion."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from targets import services
from targets.figures import figures_for
from targets.models import Role
from targets.selectors.deals import deal_confirm_preview
from tests.factories import DealFactory, make_user

pytestmark = pytest.mark.django_db

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2025, 5, 15)


@pytest.fixture(autouse=True)
def _mid_quarter():
    with time_machine.travel(datetime(2025, 5, 15, 12, tzinfo=SHANGHAI), tick=False):
        yield


@pytest.fixture
def world(org):
    """alice (Base 100万, 40万 won) and bob (Base 10万) share a manual 50万 deal 60/40."""
    alice = services.target_create(
        period="2025Q2", owner_user=org.alice, base=D("1000000"), stretch=D("1500000")
    )
    bob = services.target_create(
        period="2025Q2", owner_user=org.bob, base=D("100000"), stretch=D("150000")
    )
    DealFactory(owner=org.alice, amount=D("400000"), close_date=date(2025, 4, 20))
    manual = services.deal_create_manual(
        external_id="M-SHARED",
        author=org.alice,
        account="手工共享客户",
        owner=org.alice,
        amount=D("500000"),
        close_date=date(2025, 5, 10),
        splits=[services.Split(org.alice, D(60)), services.Split(org.bob, D(40))],
    )
    return {"alice": alice, "bob": bob, "manual": manual}


def preview_url(deal) -> str:
    return reverse("deals-confirm-preview", args=[deal.pk])


def api_url(deal) -> str:
    return f"/api/v1/deals/{deal.pk}/confirm-preview/"


def test_the_preview_gives_each_reps_completion_now_and_after(org, world):
    preview = deal_confirm_preview(user=org.mgr_east, deal=world["manual"], today=TODAY)
    alice, bob = preview.effects
    assert (alice.rep, alice.amount, alice.base) == ("Alice", D("300000"), D("1000000"))
    assert alice.completion_before == D(40) and alice.completion_after == D(70)
    assert (bob.completion_before, bob.completion_after) == (D(0), D(200))
    assert bob.exceeds_base and not alice.exceeds_base
    assert preview.warnings == 1 and preview.counts


def test_the_preview_agrees_with_the_figures_once_confirmed_and_writes_nothing(org, world):
    preview = deal_confirm_preview(user=org.mgr_east, deal=world["manual"], today=TODAY)
    targets = [world["alice"], world["bob"]]
    assert figures_for(targets, as_of=TODAY)[world["alice"].pk].completion == D(40)
    services.deal_confirm(deal=world["manual"], confirmed_by=org.mgr_east)
    after = figures_for(targets, as_of=TODAY)
    assert [after[t.pk].completion for t in targets] == [
        e.completion_after for e in preview.effects
    ]
    assert [after[t.pk].status for t in targets] == [e.status_after for e in preview.effects]


def test_a_rep_without_a_target_that_quarter_is_said_so(org, world):
    deal = services.deal_create_manual(
        external_id="M-CAROL",
        author=org.alice,
        account="东二客户",
        owner=org.carol,
        amount=D("1000"),
        close_date=date(2025, 5, 1),
    )
    (effect,) = deal_confirm_preview(user=org.mgr_east, deal=deal, today=TODAY).effects
    assert effect.target is None and effect.completion_after is None and not effect.exceeds_base


def test_a_deal_not_won_changes_no_figures(org, world):
    deal = services.deal_create_manual(
        external_id="M-OPEN",
        author=org.alice,
        account="未赢单",
        owner=org.alice,
        amount=D("100000"),
        close_date=date(2025, 5, 1),
        won=False,
    )
    preview = deal_confirm_preview(user=org.mgr_east, deal=deal, today=TODAY)
    assert not preview.counts
    assert preview.effects[0].completion_after == preview.effects[0].completion_before


# The page step ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", ["40.0% → <strong>70.0%</strong>", "超过", "仍然确认"]),
        (
            "en",
            [
                "40.0% → <strong>70.0%</strong>",
                "more than the whole quarterly Base",
                "Confirm anyway",
            ],
        ),
    ],
)
def test_the_confirm_step_shows_the_effect_and_warns_in_both_languages(
    client, org, world, language, words
):
    client.force_login(org.mgr_east)
    client.cookies["django_language"] = language
    response = client.get(preview_url(world["manual"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="confirm-step"')
    for word in words:
        assert word in html
    assert html.count('data-testid="exceeds-base"') == 1
    confirm = reverse("deals-confirm", args=[world["manual"].pk])
    assert f'hx-post="{confirm}" hx-target="#deal-{world["manual"].pk}"' in html


def test_without_htmx_the_step_is_a_page_whose_form_confirms(client, org, world):
    client.force_login(org.mgr_east)
    html = client.get(
        preview_url(world["manual"]) + "?next=/deals/%3Fawaiting%3D1"
    ).content.decode()
    assert "<html" in html and 'hx-post="/deals/' not in html
    assert 'name="next" value="/deals/?awaiting=1"' in html
    response = client.post(
        reverse("deals-confirm", args=[world["manual"].pk]), {"next": "/deals/?awaiting=1"}
    )
    assert response.status_code == 302 and response.url == "/deals/?awaiting=1"


def test_a_foreign_next_is_not_followed(client, org, world):
    client.force_login(org.mgr_east)
    html = client.get(preview_url(world["manual"]) + "?next=https://evil.example/").content.decode()
    assert 'name="next" value="/deals/"' in html


def test_the_list_opens_the_step_from_the_confirm_button(client, org, world):
    client.force_login(org.mgr_east)
    html = client.get(reverse("deals")).content.decode()
    assert f'hx-get="{preview_url(world["manual"])}?next=' in html
    assert '<dialog id="confirm-dialog"' in html


def test_the_step_is_only_for_who_may_confirm(client, org, world):
    for user, code in [(org.alice, 403), (org.hrbp, 403), (org.finance, 403), (org.dave, 404)]:
        client.force_login(user)
        assert client.get(preview_url(world["manual"])).status_code == code, user
    mgr_north = make_user("mgr_north", roles=[(Role.SALES_MANAGER, org.north)])
    client.force_login(mgr_north)
    assert client.get(preview_url(world["manual"])).status_code == 404
    client.force_login(org.director)
    assert client.get(preview_url(world["manual"])).status_code == 200


def test_a_confirmed_deal_has_no_step(client, org, world):
    services.deal_confirm(deal=world["manual"], confirmed_by=org.director)
    client.force_login(org.mgr_east)
    response = client.get(preview_url(world["manual"]), HTTP_HX_REQUEST="true")
    assert "该商机无需确认或已被确认。" in response.content.decode()
    response = client.get(preview_url(world["manual"]))
    assert response.status_code == 302


def test_the_step_accepts_only_get(client, org, world):
    client.force_login(org.mgr_east)
    assert client.post(preview_url(world["manual"])).status_code == 405


# The API ---------------------------------------------------------------------------------


def test_the_api_gives_the_effect(api, org, world):
    response = api(org.mgr_east).get(api_url(world["manual"]))
    assert response.status_code == 200
    body = response.json()
    assert body["deal"] == world["manual"].pk and body["counts"] and body["warnings"] == 1
    alice, bob = body["effects"]
    assert alice == {
        "rep": org.alice.pk,
        "rep_name": "Alice",
        "share": "60.00",
        "credited_amount": "300000.00",
        "period": "2025Q2",
        "target": world["alice"].pk,
        "base": "1000000.00",
        "completion_before": "40.0",
        "completion_after": "70.0",
        "status_before": "green",  # pace: 40 % done when ~49 % was due
        "status_after": "green",
        "exceeds_base": False,
    }
    assert bob["exceeds_base"] and bob["completion_after"] == "200.0"


def test_the_api_preview_follows_the_confirmation_rules(api, org, world):
    url = api_url(world["manual"])
    assert api(None).get(url).status_code in (401, 403)
    assert api(org.alice).get(url).status_code == 403  # the author
    assert api(org.hrbp).get(url).status_code == 403
    assert api(org.dave).get(url).status_code == 404
    assert api(org.mgr_east).post(url).status_code == 405
    services.deal_confirm(deal=world["manual"], confirmed_by=org.director)
    assert api(org.mgr_east).get(url).status_code == 409


def test_the_schema_documents_the_preview(api, org):
    schema = api(org.director).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/deals/{id}/confirm-preview/"]["get"]
    assert "ConfirmPreview" in str(operation["responses"]["200"])
