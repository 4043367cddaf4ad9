"""The "Reviews" link of the header, for those who take part in reviews."""

from __future__ import annotations

from django import template

from targets.access import SEEING_ROLES, access_for

register = template.Library()


@register.simple_tag
def may_see_reviews(user) -> bool:
    """HRBPs and finance, and the business leads who sit in reviews: every role that sees
    figures (members must). Asks nothing of the database beyond the user's roles, which
    the header loads anyway."""
    if not user.is_authenticated:
        return False
    return bool(access_for(user).granted(*SEEING_ROLES))
