"""The effect metrics section of the company dashboard (the core knows nothing of reviews)."""

from __future__ import annotations

from django import template
from django.utils import timezone

from reviews.effect import REPS_SHOWN, effect_metrics
from targets.access import access_for
from targets.models import OrgUnit
from targets.periods import Quarter

register = template.Library()


@register.inclusion_tag("reviews/_effect.html", takes_context=True)
def proposal_effect_section(context, summary) -> dict:
    """Shown on a company's dashboard to those who see the company's figures."""
    unit_id = getattr(summary, "unit", None)
    if unit_id is None:
        return {"effect": None}
    unit = OrgUnit.objects.filter(pk=unit_id, parent__isnull=True).first()
    if unit is None or not access_for(context["request"].user).sees_unit(unit.pk):
        return {"effect": None}
    as_of = summary.as_of or timezone.localdate()
    effect = effect_metrics(unit=unit, period=Quarter.parse(summary.period), as_of=as_of)
    return {"effect": effect, "reps": effect.by_rep[:REPS_SHOWN]}
