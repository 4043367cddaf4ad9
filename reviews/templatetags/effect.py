"""The effect metrics section of the company dashboard (the core knows nothing of reviews).

The dashboard renders only a placeholder that htmx fills after the page has loaded: the
metrics compute two quarters of regional figures (~0.2 s at 10,000 reps), which the
dashboard's own answer should not wait for.
"""

from __future__ import annotations

from django import template

from targets.access import access_for
from targets.models import OrgUnit

register = template.Library()


@register.inclusion_tag("reviews/_effect_placeholder.html", takes_context=True)
def proposal_effect_section(context, summary) -> dict:
    """Shown on a company's dashboard to those who see the company's figures."""
    unit_id = getattr(summary, "unit", None)
    if unit_id is None:
        return {"show": False}
    is_company = OrgUnit.objects.filter(pk=unit_id, parent__isnull=True).exists()
    if not is_company or not access_for(context["request"].user).sees_unit(unit_id):
        return {"show": False}
    return {
        "show": True,
        "unit": unit_id,
        "period": summary.period,
        "as_of": summary.as_of,
    }
