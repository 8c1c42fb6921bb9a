from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class AssistanceConfig(AppConfig):
    name = "bangfu.assistance"
    verbose_name = _("Assistance")

    def ready(self) -> None:
        from bangfu.assistance.models import HelperAssignment
        from bangfu.organisation.permissions import assignments_changed

        def changed(**kwargs: object) -> None:
            assignments_changed()

        # Bulk writes (the import, the demo) do not send these: they run in a request or command of their own.
        post_save.connect(changed, sender=HelperAssignment, weak=False, dispatch_uid="bangfu-helped-ids")
        post_delete.connect(changed, sender=HelperAssignment, weak=False, dispatch_uid="bangfu-helped-ids-delete")
