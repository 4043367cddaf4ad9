"""Proposal links for pages of the core app, which knows nothing of proposals itself."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from reviews.access import can_propose
from reviews.models import AdjustmentCase, CaseState
from targets.periods import Quarter

register = template.Library()


@register.simple_tag(takes_context=True)
def target_adjustment_actions(context, target) -> str:
    """ "Propose an adjustment" for who may, and the open adjustment case if there is one."""
    user = context["request"].user
    parts = []
    if AdjustmentCase.objects.filter(target=target, state=CaseState.OPEN).exists():
        parts.append(
            format_html(
                '<span class="tag tag-awaiting" data-testid="open-case">{}</span>',
                _("Adjustment case open"),
            )
        )
    still_open = target.period_end >= Quarter.of(timezone.localdate()).start
    if still_open and can_propose(user, target):
        parts.append(
            format_html(
                '<a class="btn btn-secondary btn-small" data-testid="propose" href="{}?target={}">{}</a>',
                reverse("proposals-new"),
                target.pk,
                _("Propose an adjustment"),
            )
        )
    # Each part was built by format_html, so joining them keeps them escaped.
    return mark_safe(" ".join(parts))
