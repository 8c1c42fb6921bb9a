import functools

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "bangfu.audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        _reuse_history_manager_classes()


def _reuse_history_manager_classes() -> None:
    """django-simple-history builds a new manager class (`Manager.from_queryset`, which inspects every method of
    the queryset) each time `Model.history` or `instance.history` is read, and it reads it for every history row
    it writes: a few milliseconds per saved record. The class depends only on the two classes it is made of, so
    make it once."""
    from simple_history.manager import HistoryDescriptor

    @functools.cache
    def manager_class(manager: type, queryset: type) -> type:
        return manager.from_queryset(queryset)

    def __get__(self: HistoryDescriptor, instance: object, owner: type) -> object:
        return manager_class(self.manager_class, self.queryset_class)(self.model, instance)

    HistoryDescriptor.__get__ = __get__  # type: ignore[method-assign]
