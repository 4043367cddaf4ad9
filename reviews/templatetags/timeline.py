"""The target page's one timeline: the core's own events and its proposals', merged."""

from __future__ import annotations

from django import template

from reviews.timeline import proposal_events
from targets.selectors.timeline import target_timeline as core_events

register = template.Library()

SHOWN = 50


@register.inclusion_tag("reviews/_timeline.html", takes_context=True)
def target_timeline(context, target) -> dict:
    user = context["request"].user
    events = core_events(user=user, target=target) + proposal_events(user=user, target=target)
    events.sort(key=lambda e: e.when, reverse=True)
    return {"events": events[:SHOWN], "more": max(len(events) - SHOWN, 0)}
