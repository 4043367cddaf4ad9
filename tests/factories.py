from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

from targets import services
from targets.models import DealSource, OrgUnit, Role, User

PASSWORD = "password"


def make_unit(name: str, kind: str, parent: OrgUnit | None = None) -> OrgUnit:
    return services.org_unit_save(name=name, kind=kind, parent=parent)


def make_user(
    username: str, *, roles: list[tuple[str, OrgUnit | None]] = (), team: OrgUnit | None = None
) -> User:
    return services.user_save(
        username=username,
        display_name=username.title(),
        email=f"{username}@example.com",
        team=team,
        password=PASSWORD,
        roles=[services.RoleGrant(role=r, unit=u) for r, u in roles],
    )


def make_rep(username: str, team: OrgUnit) -> User:
    return make_user(username, roles=[(Role.REP, team)], team=team)


class DealFactory(factory.Factory):
    """Builds deals through the same upsert the integrations use."""

    class Meta:
        model = dict

    source = DealSource.ERP
    external_id = factory.Sequence(lambda n: f"D-{n:06d}")
    account = factory.Sequence(lambda n: f"客户{n}有限公司")
    amount = Decimal("100000.00")
    close_date = date(2025, 5, 15)
    won = True
    stage = "Closed Won"

    @classmethod
    def _create(cls, model_class, owner: User, splits=None, **kwargs):
        deal, _ = services.deal_upsert(owner=owner, splits=splits, **kwargs)
        return deal
