from __future__ import annotations

from datetime import date
from decimal import Decimal

from targets import services
from targets.models import Target, User
from targets.recompute import figures_recompute
from tests.factories import DealFactory

# On the quarter's last day the whole Base is expected: pace = actual / Base.
LAST_DAY = date(2025, 6, 30)


def rep_target(owner: User, base: str = "1000000") -> Target:
    return services.target_create(
        period="2025Q2", base=Decimal(base), stretch=Decimal(base) * 2, owner_user=owner
    )


def set_actual(owner: User, amount: str) -> None:
    """The rep's one deal of the quarter, updated in place (as a sync would)."""
    DealFactory(
        owner=owner,
        external_id=f"ONLY-{owner.username}",
        amount=Decimal(amount),
        close_date=date(2025, 6, 10),
    )


def recompute(as_of: date = LAST_DAY) -> dict:
    return figures_recompute(as_of=as_of)
