"""Small display helpers for the student pages."""

from django import template
from django.utils.translation import get_language

from bangfu.organisation.models import OrgUnit

register = template.Library()


@register.filter
def unit_name(unit: OrgUnit | None) -> str:
    """An org unit's name in the current language (the English name when there is one)."""
    if unit is None:
        return ""
    return unit.display_name(get_language() or "")
