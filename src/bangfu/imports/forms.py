"""Forms of the import pages. They parse input only; the pipeline (`imports.services`) decides what is allowed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bangfu.assistance.forms import BootstrapForm
from bangfu.imports.models import ImportJob
from bangfu.imports.readers import max_bytes
from bangfu.imports.targets import Target
from bangfu.organisation.models import OrgUnit


class UploadForm(BootstrapForm):
    target = forms.ChoiceField(label=_("What the file holds"))
    school = forms.ModelChoiceField(
        label=_("School"), queryset=OrgUnit.objects.none(), to_field_name="public_id", empty_label=None
    )
    file = forms.FileField(
        label=_("File (.xlsx, .xls or .csv)"),
        widget=forms.FileInput(attrs={"accept": ".xlsx,.xls,.csv"}),
    )
    create_units = forms.BooleanField(
        label=_("Create missing majors and classes"),
        required=False,
        help_text=_(
            "Students only: a major or class the file names under an existing department is created. "
            "Otherwise it is a problem of the row."
        ),
    )
    skip_invalid = forms.BooleanField(
        label=_("Import only the valid rows"),
        required=False,
        help_text=_("Rows with problems are left out. Otherwise any row with a problem stops the whole import."),
    )

    def __init__(self, *args: Any, targets: Sequence[Target], schools: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [(t.name, t.label) for t in targets]  # type: ignore[attr-defined]
        self.fields["school"].queryset = schools  # type: ignore[attr-defined]
        if len(schools) == 1:
            self.fields["school"].initial = schools[0].public_id
            self.fields["school"].widget = forms.HiddenInput()
        self.fields["file"].help_text = _("At most %(size)s.") % {"size": filesizeformat(max_bytes())}

    def options(self) -> dict[str, bool]:
        return {"create_units": self.cleaned_data["create_units"], "skip_invalid": self.cleaned_data["skip_invalid"]}


class MappingForm(BootstrapForm):
    """The sheet and header row, and for each column of the header the field it fills (or none)."""

    sheet_name = forms.ChoiceField(label=_("Sheet"), required=False)
    header_row = forms.IntegerField(
        label=_("Header row"),
        min_value=1,
        help_text=_("The row of the sheet that names the columns; changing it maps the columns again."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    create_units = forms.BooleanField(
        label=_("Create missing majors and classes"),
        required=False,
        help_text=_("A major or class the file names under an existing department is created."),
    )

    def __init__(
        self, *args: Any, job: ImportJob, target: Target, sheets: list[str], samples: list[list[str]], **kwargs: Any
    ) -> None:
        initial = {
            "sheet_name": job.sheet_name,
            "header_row": job.header_row or 1,
            "create_units": bool(job.options.get("create_units")),
        }
        by_column = {column: key for key, column in job.mapping.items()}
        initial.update({f"column_{i}": by_column.get(i, "") for i in range(len(job.headers))})
        super().__init__(*args, initial=initial, **kwargs)
        self.job, self.target = job, target
        if len(sheets) > 1:
            self.fields["sheet_name"].choices = [(s, s) for s in sheets]  # type: ignore[attr-defined]
        else:
            del self.fields["sheet_name"]
        if target.name != "students":
            del self.fields["create_units"]
        choices = [("", _("— not imported —"))] + [
            (f.key, f"{f.label} *" if f.required else f.label) for f in target.fields
        ]
        self.columns: list[dict[str, Any]] = []
        for index, header in enumerate(job.headers):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(label=header or _("(no header)"), choices=choices, required=False)
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"
            self.columns.append(
                {"index": index, "letter": column_letter(index), "header": header, "samples": samples[index]}
            )
        for column in self.columns:
            column["field"] = self[f"column_{column['index']}"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        chosen: dict[str, int] = {}
        labels = {f.key: f.label for f in self.target.fields}
        for index in range(len(self.job.headers)):
            key = data.get(f"column_{index}") or ""
            if not key:
                continue
            if key in chosen:
                raise ValidationError(
                    _("“%(field)s” is chosen for two columns: %(a)s and %(b)s. Choose it for one only.")
                    % {"field": labels[key], "a": column_letter(chosen[key]), "b": column_letter(index)}
                )
            chosen[key] = index
        data["mapping"] = chosen
        return data

    def layout_changed(self) -> bool:
        return self.sheet_changed() or self.cleaned_data["header_row"] != self.job.header_row

    def sheet_changed(self) -> bool:
        sheet = self.cleaned_data.get("sheet_name") or self.job.sheet_name
        return sheet != self.job.sheet_name


def column_letter(index: int) -> str:
    """A column as a spreadsheet names it: 0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


ALL, VALID = "all", "valid"


class CommitForm(forms.Form):
    """Import every row (refused while some row has a problem) or, with an explicit tick, the valid rows only."""

    mode = forms.ChoiceField(choices=[(ALL, _("Import all rows")), (VALID, _("Import the valid rows only"))])
    confirm_skip = forms.BooleanField(
        label=_("Leave out the rows with problems"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args: Any, job: ImportJob, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.job = job

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        job = self.job
        if not job.total_rows:
            raise ValidationError(_("The file has no rows to import."))
        if data.get("mode") == ALL and job.invalid_rows:
            raise ValidationError(
                ngettext(
                    "%(n)d row has problems, so the file cannot be imported all or nothing. Correct the file and "
                    "upload it again, or import only the valid rows.",
                    "%(n)d rows have problems, so the file cannot be imported all or nothing. Correct the file and "
                    "upload it again, or import only the valid rows.",
                    job.invalid_rows,
                )
                % {"n": job.invalid_rows}
            )
        if data.get("mode") == VALID:
            if not data.get("confirm_skip"):
                self.add_error("confirm_skip", _("Tick the box to leave out the rows with problems."))
            elif not job.valid_rows:
                raise ValidationError(_("No row is valid: there is nothing to import."))
        return data

    @property
    def skip_invalid(self) -> bool:
        return self.cleaned_data["mode"] == VALID
