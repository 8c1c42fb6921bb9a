from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganisationConfig(AppConfig):
    name = "bangfu.organisation"
    verbose_name = _("Organisation")
