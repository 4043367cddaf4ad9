"""Template tags of the quarter target grid."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from targets.access import may_use_target_grid

register = template.Library()


@register.simple_tag
def may_set_targets(user) -> bool:
    """Whether the header shows "Set targets": sales directors and managers."""
    return bool(user.is_authenticated) and may_use_target_grid(user)


@register.simple_tag
def grid_input(form, name: str):
    """One input of the grid, written directly: Django's widget templates cost ~3 ms each,
    and a company grid has hundreds of inputs."""
    bound = form[name]
    value = bound.value()
    attrs = bound.field.widget.attrs
    if name == "version":
        return format_html(
            '<input type="hidden" name="{}" value="{}">',
            bound.html_name,
            "" if value is None else value,
        )
    return format_html(
        '<input type="text" name="{}" value="{}" class="{}" inputmode="decimal" '
        'autocomplete="off" aria-label="{}" id="{}"{}>',
        bound.html_name,
        "" if value is None else value,
        attrs.get("class", ""),
        attrs.get("aria-label", ""),
        bound.auto_id,
        # htmx and browsers focus the first autofocus element: the first row to fix.
        mark_safe(' aria-invalid="true" autofocus') if form.is_bound and bound.errors else "",
    )
