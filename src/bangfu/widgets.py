"""The form renderer: Django's, reading the project's templates, except that the commonest widgets are written in
Python.

An employment office filters a school's 50,000 students by one of 1,100 classes or 380 helpers, and a helper's
board carries a quick-log form on each of 30 cards. Through the templates each option or input costs about
55 µs (the class list alone took 63 ms a page on the province bench, the widgets a third of the helper's board);
written here, the same markup costs a few µs. Only where Django's own template would be used: a project template
of the same name (`templates/django/forms/widgets/…`) is rendered as a template. `tests/test_widgets.py` checks
that the markup is exactly what Django's templates give.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import django.forms
from django.forms.renderers import TemplatesSetting
from django.utils.formats import localize
from django.utils.html import conditional_escape

WIDGETS = "django/forms/widgets/"
_DJANGOS = Path(django.forms.__file__).parent / "templates"


def _text(value: Any) -> str:
    """`{{ value }}`: localised (a number as the template shows it), then escaped."""
    return conditional_escape(value if isinstance(value, str) else localize(value))


def _string(value: Any) -> str:
    """`{{ value|stringformat:'s' }}` (which keeps a safe string safe)."""
    return conditional_escape(str(value))


def _attrs(attrs: dict[str, Any]) -> str:
    """attrs.html."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {_text(name)}" if value is True else f' {_text(name)}="{_string(value)}"')
    return "".join(out)


def render_input(widget: dict[str, Any]) -> str:
    """input.html (and text.html, date.html, hidden.html, checkbox.html … which include it)."""
    value = "" if widget["value"] is None else f' value="{_string(widget["value"])}"'
    return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


def render_input_option(widget: dict[str, Any]) -> str:
    """input_option.html (radio_option.html, checkbox_option.html): one choice of a radio or checkbox list."""
    tag = render_input(widget)
    if not widget["wrap_label"]:
        return tag
    label_for = f' for="{_text(widget["attrs"]["id"])}"' if widget["attrs"].get("id") else ""
    return f"<label{label_for}>{tag} {_text(widget['label'])}</label>"


def render_select(widget: dict[str, Any]) -> str:
    """select.html."""
    out = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            value = _string(option["value"])
            out.append(f'\n  <option value="{value}"{_attrs(option["attrs"])}>{_text(option["label"])}</option>\n')
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")  # the renderer strips what the template ends with
    return "".join(out)


INPUTS = ("input", "text", "number", "email", "url", "password", "hidden", "date", "datetime", "time", "search",
          "tel", "color", "checkbox")  # fmt: skip
WRITTEN: dict[str, Callable[[dict[str, Any]], str]] = {
    **{f"{WIDGETS}{name}.html": render_input for name in INPUTS},
    **{f"{WIDGETS}{name}.html": render_input_option for name in ("input_option", "radio_option", "checkbox_option")},
    f"{WIDGETS}select.html": render_select,
}


class FormRenderer(TemplatesSetting):
    """FORM_RENDERER: the project's templates (TEMPLATES), with the functions of `WRITTEN` for Django's own widget
    templates."""

    def __init__(self) -> None:
        super().__init__()
        self._djangos: dict[str, bool] = {}

    def _is_djangos(self, template_name: str) -> bool:
        """Whether Django's own templates would draw this widget: the one named and those the written ones stand
        for (input, input_option, attrs), none overridden by a project template."""
        found = self._djangos.get(template_name)
        if found is None:
            names = (template_name, *(f"{WIDGETS}{name}.html" for name in ("input", "input_option", "attrs")))
            origins = (Path(str(self.get_template(name).origin.name)) for name in names)
            found = self._djangos[template_name] = all(origin.is_relative_to(_DJANGOS) for origin in origins)
        return found

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        write = WRITTEN.get(template_name)
        if write is not None and self._is_djangos(template_name):
            return write(context["widget"])
        return super().render(template_name, context, request)
