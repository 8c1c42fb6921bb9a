# Two single-column indexes that the table's unique indexes already serve: (entry, category) starts with the
# entry, and an ID number's hash is only looked up within a school, (school, hash). Every import and every new
# student paid for them. Dropped in place: altering the field would rebuild the whole table on SQLite.

import django.db.models.deletion
from django.db import migrations, models

DROPPED = [
    "students_ledgercategory_entry_id_1a76b923",
    "students_student_id_number_hash_909bfe95",
    "students_student_id_number_hash_909bfe95_like",  # PostgreSQL's pattern index beside a varchar one
]


class Migration(migrations.Migration):

    dependencies = [
        ("students", "0004_graduates_of_a_school_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ledgercategory",
                    name="entry",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="categories",
                        to="students.ledgerentry",
                    ),
                ),
                migrations.AlterField(
                    model_name="student",
                    name="id_number_hash",
                    field=models.CharField(blank=True, editable=False, max_length=64),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [f'DROP INDEX IF EXISTS "{name}"' for name in DROPPED],
                    reverse_sql=[
                        'CREATE INDEX "students_ledgercategory_entry_id_1a76b923" '
                        'ON "students_ledgercategory" ("entry_id")',
                        'CREATE INDEX "students_student_id_number_hash_909bfe95" ON "students_student" ("id_number_hash")',
                    ],
                )
            ],
        ),
    ]
