"""The select box written in Python (`bangfu.widgets`) is exactly what Django's select.html template gives."""

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from bangfu.widgets import FormRenderer

CLASSES = [("", "—"), ("c1", "软件技术2201班"), ("c2", 'Class "A" & <B>'), ("c3", mark_safe("<b>安全</b>"))]
GROUPED = [
    ("信息工程学院", [("s1", "软件技术"), ("s2", "大数据技术")]),
    ("机电工程学院", [("m1", "工业机器人技术")]),
    ("", "—"),
]


@pytest.mark.parametrize(
    ("widget", "value"),
    [
        (forms.Select(choices=CLASSES, attrs={"class": "form-select", "required": True, "data-x": 0}), "c2"),
        (forms.Select(choices=CLASSES, attrs={"disabled": False, "aria-label": "班级 <list>"}), None),
        (forms.Select(choices=[(2024, 2024), (12345, 12345), (None, "none")]), 12345),
        (forms.Select(choices=GROUPED), "s2"),
        (forms.SelectMultiple(choices=CLASSES, attrs={"size": 4}), ["c1", "c3"]),
        (forms.Select(choices=[("in", gettext_lazy("Ledger students")), ("out", gettext_lazy("Other"))]), "in"),
        (forms.Select(choices=[(mark_safe("a&b"), "safe"), ("a&b", "plain")], attrs={"title": mark_safe("&amp;")}), 1),
        (forms.NullBooleanSelect(), True),
        (forms.Select(choices=[]), None),
    ],
)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_select_box_is_the_templates_markup(widget: forms.Widget, value: object, language: str, settings) -> None:  # type: ignore[no-untyped-def]
    settings.USE_THOUSAND_SEPARATOR = True  # numbers as labels are localised as the template does
    with override(language):
        ours = widget.render("class_unit", value, attrs={"id": "id_class_unit"}, renderer=FormRenderer())
        django = widget.render("class_unit", value, attrs={"id": "id_class_unit"}, renderer=TemplatesSetting())
    assert ours == django
    assert "<option" in ours or not widget.choices  # type: ignore[attr-defined]


def test_other_widgets_still_use_their_templates() -> None:
    field = forms.CharField(widget=forms.TextInput(attrs={"class": "form-control"}))
    assert field.widget.render("q", "王", renderer=FormRenderer()) == field.widget.render(
        "q", "王", renderer=TemplatesSetting()
    )


def test_the_project_renders_forms_with_it(settings) -> None:  # type: ignore[no-untyped-def]
    from django.forms.renderers import get_default_renderer

    assert settings.FORM_RENDERER == "bangfu.widgets.FormRenderer"
    assert isinstance(get_default_renderer(), FormRenderer)
