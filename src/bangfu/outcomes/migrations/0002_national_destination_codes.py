"""The national destination codes (list version 2024): see `bangfu.outcomes.codes`."""

from django.db import migrations

from bangfu.outcomes.codes import LIST_VERSION, install_national_codes


def add_codes(apps, schema_editor):
    install_national_codes(apps.get_model("outcomes", "DestinationCode"))


def remove_codes(apps, schema_editor):
    apps.get_model("outcomes", "DestinationCode").objects.filter(school__isnull=True, list_version=LIST_VERSION).delete()


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0001_initial")]
    operations = [migrations.RunPython(add_codes, remove_codes)]
