"""The progress row keeps where the student stands on the boards (unit, graduation year, helper, destination group),
copied from the student's own rows: added empty, filled from them, then required."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Case, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce, ExtractYear

UNITS = ("school", "department", "class_unit")


def fill(apps, schema_editor):
    progress = apps.get_model("assistance", "StudentProgress")
    student = apps.get_model("students", "Student")
    assignment = apps.get_model("assistance", "HelperAssignment")
    destination = apps.get_model("outcomes", "Destination")
    in_force = destination.objects.filter(student_id=OuterRef("student_id"), superseded_on__isnull=True)
    own = student.objects.filter(pk=OuterRef("student_id"))
    graduates_in = Case(
        When(status="withdrawn", then=Value(None)),
        default=ExtractYear("expected_graduation"),
        output_field=IntegerField(),
    )
    progress.objects.update(
        **{f"{unit}_id": Subquery(own.values(f"{unit}_id")[:1]) for unit in UNITS},
        graduates_in=Subquery(own.annotate(year=graduates_in).values("year")[:1]),
        helper_id=Subquery(
            assignment.objects.filter(student_id=OuterRef("student_id"), ended_on__isnull=True, is_primary=True).values(
                "helper_id"
            )[:1]
        ),
        destination_group=Coalesce(Subquery(in_force.values("code__group")[:1]), Value("")),
        placed_since=Subquery(in_force.values("placed_since")[:1]),
    )


def unit(required: bool) -> models.ForeignKey:
    return models.ForeignKey(
        db_index=False,
        null=not required,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="organisation.orgunit",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("assistance", "0003_fewer_indexes"),
        ("organisation", "0001_initial"),
        ("outcomes", "0002_national_destination_codes"),
        ("students", "0003_fewer_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        *(migrations.AddField(model_name="studentprogress", name=name, field=unit(False)) for name in UNITS),
        migrations.AddField(
            model_name="studentprogress",
            name="graduates_in",
            field=models.PositiveSmallIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="studentprogress",
            name="helper",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="studentprogress",
            name="destination_group",
            field=models.CharField(blank=True, max_length=16, default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="studentprogress",
            name="placed_since",
            field=models.DateField(null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        *(migrations.AlterField(model_name="studentprogress", name=name, field=unit(True)) for name in UNITS),
        migrations.AddIndex(
            model_name="studentprogress",
            index=models.Index(
                fields=["school", "graduates_in", "destination_group", "standards_met", "standards_total", "helper"],
                name="progress_school_figures",
            ),
        ),
        migrations.AddIndex(
            model_name="studentprogress",
            index=models.Index(fields=["department", "graduates_in"], name="assistance__departm_bc2fb9_idx"),
        ),
    ]
