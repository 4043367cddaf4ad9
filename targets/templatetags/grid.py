"""Template tags of the quarter target grid."""

from __future__ import annotations

from django import template

from targets.access import may_use_target_grid

register = template.Library()


@register.simple_tag
def may_set_targets(user) -> bool:
    """Whether the header shows "Set targets": sales directors and managers."""
    return bool(user.is_authenticated) and may_use_target_grid(user)
