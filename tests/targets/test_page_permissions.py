"""Role × page matrix (SPEC §2) with two companies and region-scoped roles.

The pages answer as the API does: an object the user may not see is 404 (another company's
unit included), an action on one they may see but not take is 403, and no link on a page
leads a user outside their scope.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.test import Client

from targets.models import Deal, Target
from tests.targets.scoped import (
    ACME,
    ACME_WIDE,
    EAST_SCOPED,
    GLOBEX,
    GLOBEX_WIDE,
    PERIOD,
    PERSONAS,
    build_world,
    expected,
)

pytestmark = pytest.mark.django_db

LOGIN = "login"  # a redirect to the sign-in page
EAST_SEERS = ("admin", *ACME_WIDE, *EAST_SCOPED)
EAST_SETTERS = ("director", "east_director")
ENTERS_DEALS = (*EAST_SETTERS, "mgr_east", "alice", "dave", "g_director", "gina")


@pytest.fixture
def world(org):
    return build_world(org)


class _Rollback(Exception):
    pass


def clients(world) -> dict[str, Client]:
    signed_in = {}
    for persona in PERSONAS:
        client = Client()
        if persona != "anonymous":
            client.force_login(world.person(persona))
        signed_in[persona] = client
    return signed_in


def _outcome(response) -> int | str:
    if response.status_code == 302 and urlsplit(response.url).path.startswith("/login/"):
        return LOGIN
    return response.status_code


def request_and_undo(client: Client, method: str, url: str, data: dict | None):
    response = None
    try:
        with transaction.atomic():
            response = getattr(client, method)(url, data or {})
            raise _Rollback
    except _Rollback:
        pass
    return response


# (name, method, url template, form data, {persona or group: status}); "others" for the rest.
DIRECTORS = ("director", "east_director", "g_director")
PAGES = [
    ("home", "get", "/", None, {"anonymous": LOGIN, "others": 200}),
    # Onboarding (integrations): admin only; imports also sales directors, for targets.
    ("setup checklist", "get", "/setup/", None, {"anonymous": LOGIN, "admin": 200, "others": 403}),
    (
        "imports page",
        "get",
        "/imports/",
        None,
        {"anonymous": LOGIN, ("admin", *DIRECTORS): 200, "others": 403},
    ),
    (
        "targets import template",
        "get",
        "/imports/templates/targets/",
        None,
        {"anonymous": LOGIN, ("admin", *DIRECTORS): 200, "others": 403},
    ),
    (
        "org import template",
        "get",
        "/imports/templates/org/",
        None,
        {"anonymous": LOGIN, "admin": 200, "others": 403},
    ),
    (
        "home of the company (ACME)",
        "get",
        "/?unit={company}",
        None,
        {"anonymous": LOGIN, ("admin", *ACME_WIDE): 200, tuple(GLOBEX): 404, "others": 403},
    ),
    (
        "home of East",
        "get",
        "/?unit={east}",
        None,
        {"anonymous": LOGIN, EAST_SEERS: 200, tuple(GLOBEX): 404, "others": 403},
    ),
    (
        "home of North",
        "get",
        "/?unit={north}",
        None,
        {"anonymous": LOGIN, ("admin", *ACME_WIDE): 200, tuple(GLOBEX): 404, "others": 403},
    ),
    (
        "home of Globex",
        "get",
        "/?unit={globex}",
        None,
        {"anonymous": LOGIN, ("admin", *GLOBEX_WIDE): 200, "gina": 403, "others": 404},
    ),
    (
        "target page (company)",
        "get",
        "/targets/{t_company}/",
        None,
        {"anonymous": LOGIN, ("admin", *ACME_WIDE): 200, "others": 404},
    ),
    (
        "target page (East)",
        "get",
        "/targets/{t_east}/",
        None,
        {"anonymous": LOGIN, EAST_SEERS: 200, "others": 404},
    ),
    (
        "target page (alice)",
        "get",
        "/targets/{t_alice}/",
        None,
        {"anonymous": LOGIN, (*EAST_SEERS, "alice"): 200, "others": 404},
    ),
    (
        "target page (dave)",
        "get",
        "/targets/{t_dave}/",
        None,
        {"anonymous": LOGIN, ("admin", *ACME_WIDE, "dave"): 200, "others": 404},
    ),
    (
        "target page (gina)",
        "get",
        "/targets/{t_gina}/",
        None,
        {"anonymous": LOGIN, ("admin", *GLOBEX): 200, "others": 404},
    ),
    (
        "allocation of the company",
        "get",
        "/targets/{t_company}/allocate/",
        None,
        {"anonymous": LOGIN, ("admin", *ACME_WIDE): 200, "others": 404},
    ),
    (
        "allocation of East",
        "get",
        "/targets/{t_east}/allocate/",
        None,
        {"anonymous": LOGIN, EAST_SEERS: 200, "others": 404},
    ),
    (
        "allocation of Globex",
        "get",
        "/targets/{t_globex}/allocate/",
        None,
        {"anonymous": LOGIN, ("admin", *GLOBEX_WIDE): 200, "others": 404},
    ),
    (
        "allocation of a rep's target",
        "get",
        "/targets/{t_alice}/allocate/",
        None,
        {"anonymous": LOGIN, "others": 404},
    ),
    (
        "allocate the company (save)",
        "post",
        "/targets/{t_company}/allocate/",
        {
            "unit-{east}-base": "800",
            "unit-{east}-stretch": "1200",
            "unit-{north}-base": "700",
            "unit-{north}-stretch": "900",
        },
        {"anonymous": LOGIN, "director": 302, ("admin", *ACME_WIDE): 403, "others": 404},
    ),
    (
        "allocate East (save)",
        "post",
        "/targets/{t_east}/allocate/",
        {"unit-{east1}-base": "350", "unit-{east1}-stretch": "450"},
        {
            "anonymous": LOGIN,
            (*EAST_SETTERS, "mgr_east"): 302,
            EAST_SEERS: 403,
            "others": 404,
        },
    ),
    (
        "allocate Globex (save)",
        "post",
        "/targets/{t_globex}/allocate/",
        {"unit-{g_south}-base": "900", "unit-{g_south}-stretch": "1400"},
        {"anonymous": LOGIN, "g_director": 302, ("admin", *GLOBEX_WIDE): 403, "others": 404},
    ),
    ("deals", "get", "/deals/", None, {"anonymous": LOGIN, "others": 200}),
    # Everyone's own settings: nothing of anyone else's is reachable through it.
    (
        "notification settings",
        "get",
        "/settings/notifications/",
        None,
        {"anonymous": LOGIN, "others": 200},
    ),
    (
        "deal entry",
        "get",
        "/deals/new/",
        None,
        {"anonymous": LOGIN, ENTERS_DEALS: 200, "others": 403},
    ),
    (
        "confirm alice's manual deal",
        "post",
        "/deals/{d_m_alice}/confirm/",
        None,
        {
            "anonymous": LOGIN,
            (*EAST_SETTERS, "mgr_east"): 302,
            (*EAST_SEERS, "alice"): 403,
            "others": 404,
        },
    ),
    (
        "confirm gina's manual deal",
        "post",
        "/deals/{d_m_gina}/confirm/",
        None,
        {"anonymous": LOGIN, "g_director": 302, ("admin", *GLOBEX): 403, "others": 404},
    ),
]


def _fill(template, ids):
    if template is None:
        return None
    if isinstance(template, dict):
        return {_fill(k, ids): _fill(v, ids) for k, v in template.items()}
    return template.format(**ids)


def test_role_page_matrix(world):
    """Every row × every persona, each request rolled back after it (one world for all).
    A failure lists every wrong cell: row → persona → (expected, got)."""
    ids = world.ids()
    signed_in = clients(world)
    wrong: dict[str, dict] = {}
    for name, method, url, data, table in PAGES:
        url, data = _fill(url, ids), _fill(data, ids)
        for persona, client in signed_in.items():
            outcome = _outcome(request_and_undo(client, method, url, data))
            if outcome != expected(table, persona):
                wrong.setdefault(name, {})[persona] = (expected(table, persona), outcome)
    assert not wrong, wrong


def test_the_page_matrix_names_only_personas():
    for *_row, table in PAGES:
        for key in table:
            names = key if isinstance(key, tuple) else (key,)
            assert set(names) <= {*PERSONAS, "others"}, names


def test_a_saved_allocation_and_a_confirmation_really_happen(world):
    """The 302s of the matrix are the successful writes, not some other redirect."""
    ids = world.ids()
    director = clients(world)["director"]
    saved = director.post(
        f"/targets/{ids['t_east']}/allocate/",
        {f"unit-{ids['east1']}-base": "350", f"unit-{ids['east1']}-stretch": "450"},
    )
    assert saved.url == f"/targets/{ids['t_east']}/allocate/"
    assert Target.objects.get(pk=ids["t_east1"]).base == 350
    confirmed = director.post(f"/deals/{ids['d_m_alice']}/confirm/")
    assert confirmed.url == "/deals/"
    assert Deal.objects.get(pk=ids["d_m_alice"]).confirmed_by == world.people["director"]


# Links stay inside the scope ----------------------------------------------------------------

FOLLOWED = re.compile(r'href="(/(?:\?[^"]*unit=\d+[^"]*|targets/\d+/(?:allocate/)?))"')
MAX_PAGES = 30


def _links(html: str) -> set[str]:
    return {href.replace("&amp;", "&") for href in FOLLOWED.findall(html)}


# One reader per kind of scope (hrbp and finance see what a director of the same unit sees).
CRAWLERS = ["admin", "director", "mgr_east", "east_director", "east_hrbp", "g_finance", "alice"]


def test_every_unit_and_target_link_a_page_shows_opens_for_its_reader(world):
    """From the dashboard and the deals list of the quarter, follow every dashboard, target
    and allocation link (breadcrumbs, children, back links): none answers 403 or 404."""
    signed_in = clients(world)
    for persona in CRAWLERS:
        client = signed_in[persona]
        start = [f"/?period={PERIOD}", "/deals/"]
        queue, seen, broken = list(start), set(start), {}
        while queue and len(seen) <= MAX_PAGES:
            url = queue.pop(0)
            response = client.get(url)
            if response.status_code != 200:
                broken[url] = response.status_code
                continue
            for link in _links(response.content.decode()) - seen:
                seen.add(link)
                queue.append(link)
        assert not broken, (persona, broken)
        assert len(seen) > 2 or persona == "alice", (persona, seen)


def test_breadcrumbs_above_a_region_scoped_users_unit_are_not_links(world):
    ids = world.ids()
    html = clients(world)["east_hrbp"].get(f"/?unit={ids['east1']}&period={PERIOD}")
    html = html.content.decode()
    assert f"?unit={ids['company']}" not in html
    assert f"?unit={ids['east']}" in html
    assert "ACME" in html  # named, not linked


# What the lists hold ----------------------------------------------------------------------

ACCOUNTS = {
    "ACME 华东客户": (*EAST_SEERS, "alice"),
    "ACME 华北客户": ("admin", *ACME_WIDE, "dave"),
    "Globex 华南客户": ("admin", *GLOBEX),
    "ACME 手工录入": (*EAST_SEERS, "alice"),
    "Globex 手工录入": ("admin", *GLOBEX),
}


def test_the_deals_list_shows_each_persona_only_their_scopes_deals(world):
    for persona, client in clients(world).items():
        if persona == "anonymous":
            continue
        html = client.get("/deals/").content.decode()
        shown = {account for account in ACCOUNTS if account in html}
        assert shown == {a for a, who in ACCOUNTS.items() if persona in who}, persona


def _choices(html: str, field: str) -> set[str]:
    select = re.search(rf'<select name="{field}".*?</select>', html, re.S)
    assert select, field
    return set(re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', select.group(0)))


ACME_REPS = {"Alice", "Bob", "Carol", "Dave"}
# persona → (reps they may enter a deal for, reps they may share one with)
ENTRY_CHOICES = {
    "mgr_east": ({"Alice", "Bob", "Carol"}, ACME_REPS),
    "east_director": ({"Alice", "Bob", "Carol"}, ACME_REPS),
    "alice": ({"Alice"}, ACME_REPS),
    "director": (ACME_REPS, ACME_REPS),
    "g_director": ({"Gina"}, {"Gina"}),
    "gina": ({"Gina"}, {"Gina"}),
}


def test_the_entry_form_offers_only_the_own_companys_reps(world):
    signed_in = clients(world)
    for persona, (owners, colleagues) in ENTRY_CHOICES.items():
        html = signed_in[persona].get("/deals/new/").content.decode()
        names = {
            field: {choice.split(" · ")[0] for choice in _choices(html, field)}
            for field in ("owner", "second_rep")
        }
        assert names == {"owner": owners, "second_rep": colleagues}, persona


def test_nobody_of_one_company_sees_the_others_names_on_its_pages(world):
    ids = world.ids()
    pages = [f"/?period={PERIOD}", "/deals/new/", f"/targets/{ids['t_east']}/allocate/"]
    signed_in = clients(world)
    for persona in ("director", "east_hrbp", "mgr_east", "alice", "g_director", "gina"):
        client = signed_in[persona]
        stranger = ("Gina", "Globex") if persona in ACME else ("Alice", "ACME")
        for url in pages:
            response = client.get(url)
            if response.status_code == 200:
                html = response.content.decode()
                assert not any(name in html for name in stranger), (persona, url)
