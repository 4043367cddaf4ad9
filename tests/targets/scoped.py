"""A second company and region-scoped roles beside the personas of tests/conftest.py.

ACME (company)                  director, hrbp, finance
├── 华东 East (region)          mgr_east; east_director, east_hrbp, east_finance
│   ├── East-1 (team)            alice, bob
│   └── East-2 (team)            carol
└── 华北 North (region)          mgr_north
    └── North-1 (team)           dave
Globex 环球 (company)           g_director, g_hrbp, g_finance
└── 华南 South (region)          g_mgr
    └── South-1 (team)           gina

`world` adds targets of the unlocked quarter 2099Q1 (ACME, East, East-1, North, North-1, alice,
dave; Globex, South, South-1, gina) and deals: a synced one per rep
(alice, dave, gina) and a manual one awaiting confirmation in each company (entered by
alice and by gina for themselves).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone

from targets import services
from targets.models import Deal, OrgUnit, Role, Target, User
from tests.conftest import Org
from tests.factories import DealFactory, make_rep, make_unit, make_user

PERIOD = "2099Q1"


@dataclass
class Scoped:
    org: Org
    globex: OrgUnit
    g_south: OrgUnit
    g_south1: OrgUnit
    people: dict[str, User]
    targets: dict[str, Target]
    deals: dict[str, Deal]

    def person(self, name: str) -> User | None:
        return None if name == "anonymous" else self.people[name]

    def ids(self) -> dict[str, object]:
        """Names a URL or body template may use: units, people, t_<target>, d_<deal>."""
        org = self.org
        ids: dict[str, object] = {
            "company": org.company.pk,
            "east": org.east.pk,
            "east1": org.east1.pk,
            "east2": org.east2.pk,
            "north": org.north.pk,
            "north1": org.north1.pk,
            "globex": self.globex.pk,
            "g_south": self.g_south.pk,
            "g_south1": self.g_south1.pk,
            "today": timezone.localdate().isoformat(),
        }
        ids.update({name: user.pk for name, user in self.people.items()})
        ids.update({f"t_{name}": target.pk for name, target in self.targets.items()})
        ids.update({f"d_{name}": deal.pk for name, deal in self.deals.items()})
        return ids


# Everyone who may sign in, as the matrices call them.
PERSONAS = [
    "anonymous",
    "admin",
    "director",
    "hrbp",
    "finance",
    "mgr_east",
    "alice",
    "dave",
    "east_director",
    "east_hrbp",
    "east_finance",
    "g_director",
    "g_hrbp",
    "g_finance",
    "gina",
]
ACME_WIDE = ["director", "hrbp", "finance"]
EAST_SCOPED = ["mgr_east", "east_director", "east_hrbp", "east_finance"]
GLOBEX = ["g_director", "g_hrbp", "g_finance", "gina"]
GLOBEX_WIDE = ["g_director", "g_hrbp", "g_finance"]
ACME = [*ACME_WIDE, *EAST_SCOPED, "alice", "dave"]


def build_scoped(org: Org) -> Scoped:
    globex = make_unit("Globex 环球", "company")
    g_south = make_unit("华南 South", "region", globex)
    g_south1 = make_unit("South-1", "team", g_south)
    people = {
        name: getattr(org, name)
        for name in ("admin", "director", "hrbp", "finance", "mgr_east", "alice", "bob", "carol")
    }
    people["dave"] = org.dave
    people.update(
        east_director=make_user("east_director", roles=[(Role.SALES_DIRECTOR, org.east)]),
        east_hrbp=make_user("east_hrbp", roles=[(Role.HRBP, org.east)]),
        east_finance=make_user("east_finance", roles=[(Role.FINANCE, org.east)]),
        mgr_north=make_user("mgr_north", roles=[(Role.SALES_MANAGER, org.north)]),
        g_director=make_user("g_director", roles=[(Role.SALES_DIRECTOR, globex)]),
        g_hrbp=make_user("g_hrbp", roles=[(Role.HRBP, globex)]),
        g_finance=make_user("g_finance", roles=[(Role.FINANCE, globex)]),
        g_mgr=make_user("g_mgr", roles=[(Role.SALES_MANAGER, g_south)]),
        gina=make_rep("gina", g_south1),
    )
    return Scoped(
        org=org,
        globex=globex,
        g_south=g_south,
        g_south1=g_south1,
        people=people,
        targets={},
        deals={},
    )


def _target(owner: OrgUnit | User, base: int) -> Target:
    owner_kw = {"owner_user": owner} if isinstance(owner, User) else {"owner_unit": owner}
    return services.target_create(
        period=PERIOD, base=Decimal(base), stretch=Decimal(base * 3 // 2), **owner_kw
    )


def build_world(org: Org) -> Scoped:
    scoped = build_scoped(org)
    p = scoped.people
    scoped.targets.update(
        company=_target(org.company, 2000),
        east=_target(org.east, 800),
        # Every unit target has a child target, so each allocation page shows a coverage.
        east1=_target(org.east1, 300),
        north=_target(org.north, 600),
        north1=_target(org.north1, 600),
        alice=_target(p["alice"], 100),
        dave=_target(p["dave"], 100),
        globex=_target(scoped.globex, 900),
        g_south=_target(scoped.g_south, 900),
        g_south1=_target(scoped.g_south1, 900),
        gina=_target(p["gina"], 100),
    )
    manual = {"close_date": date(2025, 5, 1), "today": date(2025, 5, 20), "amount": Decimal(5000)}
    scoped.deals.update(
        alice=DealFactory(owner=p["alice"], account="ACME 华东客户"),
        dave=DealFactory(owner=p["dave"], account="ACME 华北客户"),
        gina=DealFactory(owner=p["gina"], account="Globex 华南客户"),
        m_alice=services.deal_create_manual(
            author=p["alice"], owner=p["alice"], account="ACME 手工录入", **manual
        ),
        m_gina=services.deal_create_manual(
            author=p["gina"], owner=p["gina"], account="Globex 手工录入", **manual
        ),
    )
    return scoped


def expected(table: dict[str, object], persona: str) -> object:
    """A matrix cell: the persona's own entry, else the entry of a group naming it, else
    "others"."""
    if persona in table:
        return table[persona]
    for key, value in table.items():
        if isinstance(key, tuple) and persona in key:
            return value
    return table["others"]
