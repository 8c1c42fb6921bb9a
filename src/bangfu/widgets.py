"""The form renderer: Django's, reading the project's templates, except that a select box is written in Python.

An employment office filters a school's 50,000 students by one of 1,100 classes or 380 helpers. Through the
template each option costs about 55 µs (the class list alone took 63 ms a page on the province bench); written
here, the same markup costs a few µs an option. `tests/test_widgets.py` checks that the markup is exactly what
Django's own select.html gives.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import TemplatesSetting
from django.utils.formats import localize
from django.utils.html import conditional_escape

SELECT = "django/forms/widgets/select.html"


def _text(value: Any) -> str:
    """`{{ value }}`: localised (a number as the template shows it), then escaped."""
    return conditional_escape(value if isinstance(value, str) else localize(value))


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {_text(name)}" if value is True else f' {_text(name)}="{conditional_escape(str(value))}"')
    return "".join(out)


def render_select(widget: dict[str, Any]) -> str:
    """django/forms/widgets/select.html for the widget context `widget`."""
    out = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            value = conditional_escape(str(option["value"]))  # `|stringformat:'s'` keeps a safe string safe
            out.append(f'\n  <option value="{value}"{_attrs(option["attrs"])}>{_text(option["label"])}</option>\n')
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")  # the renderer strips what the template ends with
    return "".join(out)


class FormRenderer(TemplatesSetting):
    """FORM_RENDERER: the project's templates (TEMPLATES), with `render_select` for the select box."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if template_name == SELECT:
            return render_select(context["widget"])
        return super().render(template_name, context, request)
