from __future__ import annotations

from decimal import Decimal

from reviews import services
from reviews.models import Proposal


def proposal_for(
    target, *, author=None, submit: bool = True, reason: str = "competitor_price"
) -> Proposal:
    """A proposal to take the target down to 800 / 1,200, submitted unless asked otherwise."""
    return services.proposal_create(
        author=author or target.owner_user,
        target=target,
        proposed_base=Decimal(800),
        proposed_stretch=Decimal(1200),
        reason=reason,
        submit=submit,
    )
