"""The "Flag" action on deal rows of core pages, which know nothing of flags themselves."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from reviews.disputes.access import may_flag, own_deals
from reviews.models import ActualDispute, DisputeState

register = template.Library()

_CACHE = "_targetpilot_flaggable"


def _flaggable(request) -> tuple[frozenset[int], frozenset[int]]:
    """(the user's own deal ids, those they have an open flag on): two queries per request,
    however many rows ask."""
    cached = getattr(request, _CACHE, None)
    if cached is None:
        user = request.user
        if not user.is_authenticated or not may_flag(user):
            cached = (frozenset(), frozenset())
        else:
            own = frozenset(own_deals(user).values_list("pk", flat=True))
            flagged = frozenset(
                ActualDispute.objects.filter(
                    author=user, state=DisputeState.OPEN, deal__isnull=False
                ).values_list("deal_id", flat=True)
            )
            cached = (own, flagged)
        setattr(request, _CACHE, cached)
    return cached


@register.simple_tag(takes_context=True)
def deal_flag_action(context, deal_id: int) -> str:
    """ "Flag" for the rep's own deal, or the open flag on it; nothing for anyone else."""
    request = context.get("request")
    if request is None:
        return ""
    own, flagged = _flaggable(request)
    if deal_id not in own:
        return ""
    if deal_id in flagged:
        return format_html(
            '<a class="tag tag-awaiting" data-testid="flagged" href="{}?tab=mine&amp;state=open">{}</a>',
            reverse("disputes"),
            _("Flagged"),
        )
    return format_html(
        '<a class="btn btn-secondary btn-small btn-flag" data-testid="flag" href="{}?deal={}" '
        'title="{}">{}</a>',
        reverse("disputes-new"),
        deal_id,
        _("Tell your manager this deal or its split is wrong"),
        _("Flag"),
    )
