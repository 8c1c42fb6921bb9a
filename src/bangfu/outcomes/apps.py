from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OutcomesConfig(AppConfig):
    name = "bangfu.outcomes"
    verbose_name = _("Destinations")

    def ready(self) -> None:
        post_migrate.connect(_national_codes, sender=self, dispatch_uid="bangfu-national-destination-codes")


def _national_codes(using: str = "default", **kwargs: object) -> None:
    """The national destination code list is reference data every school's figures need: after `migrate` (which
    installs it with migration outcomes 0002), and after `flush` (which empties every table and then sends this
    signal), the missing codes are put back. Idempotent: nothing is written when the list is complete."""
    from django.db import connections

    from bangfu.outcomes.codes import install_national_codes
    from bangfu.outcomes.models import DestinationCode

    if using == "default" and DestinationCode._meta.db_table in connections[using].introspection.table_names():
        install_national_codes()
