"""The widgets written in Python (`bangfu.widgets`) are exactly what Django's templates give."""

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


@pytest.mark.parametrize(
    ("widget", "value"),
    [
        (
            forms.TextInput(attrs={"class": "form-control", "placeholder": "姓名或学号 <q>", "autocomplete": "off"}),
            "王",
        ),
        (forms.TextInput(), None),
        (forms.TextInput(attrs={"maxlength": 64, "required": True, "readonly": False}), 'a "quoted" & <b>'),
        (forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}), "2026-11-28"),
        (forms.NumberInput(attrs={"min": 0, "step": 1}), 0),
        (forms.EmailInput(), "wang@example.edu.cn"),
        (forms.HiddenInput(), mark_safe("a&b")),
        (forms.CheckboxInput(attrs={"class": "form-check-input"}), True),
        (forms.CheckboxInput(), False),
        (forms.Textarea(attrs={"rows": 2}), "父母务农\n家中三口人"),  # a template of its own: not written in Python
        (
            forms.RadioSelect(choices=[("check_in", "月度联系"), ("talk", "谈心谈话")], attrs={"class": "btn-check"}),
            "talk",
        ),
        (forms.CheckboxSelectMultiple(choices=[("orphan", "孤儿"), ("rural", "农村 & <山区>")]), ["rural"]),
    ],
)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_inputs_and_choices_are_the_templates_markup(widget: forms.Widget, value: object, language: str) -> None:
    with override(language):
        ours = widget.render("field", value, attrs={"id": "id_field"}, renderer=FormRenderer())
        django = widget.render("field", value, attrs={"id": "id_field"}, renderer=TemplatesSetting())
    assert ours == django


def test_one_radio_drawn_alone_is_the_templates_markup() -> None:
    # The helper's board draws each choice of its quick-log form with `radio.tag` (no label around it).
    kind = forms.ChoiceField(choices=[("check_in", "月度联系"), ("talk", "谈心谈话")], widget=forms.RadioSelect)
    form_class = type("QuickLog", (forms.Form,), {"kind": kind})
    ours = [radio.tag() for radio in form_class({"kind": "talk"}, renderer=FormRenderer())["kind"]]
    theirs = [radio.tag() for radio in form_class({"kind": "talk"}, renderer=TemplatesSetting())["kind"]]
    assert ours == theirs and "checked" in ours[1] and "checked" not in ours[0]


def test_a_project_template_of_the_same_name_is_still_used(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    widgets = tmp_path / "django" / "forms" / "widgets"
    widgets.mkdir(parents=True)
    (widgets / "input.html").write_text('<input data-ours name="{{ widget.name }}">')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    assert forms.TextInput().render("q", "x", renderer=FormRenderer()) == '<input data-ours name="q">'
    assert forms.Select(choices=[("a", "A")]).render("s", "a", renderer=FormRenderer()).startswith('<select name="s">')


def test_other_widgets_still_use_their_templates() -> None:
    widget = forms.SelectDateWidget(years=[2025, 2026])
    assert widget.render("d", "2026-11-28", renderer=FormRenderer()) == widget.render(
        "d", "2026-11-28", renderer=TemplatesSetting()
    )


def test_the_project_renders_forms_with_it(settings) -> None:  # type: ignore[no-untyped-def]
    from django.forms.renderers import get_default_renderer

    assert settings.FORM_RENDERER == "bangfu.widgets.FormRenderer"
    assert isinstance(get_default_renderer(), FormRenderer)
