"""Exports under /reports/exports/, in the `exports` namespace."""

from django.urls import path

from bangfu.reports import export_views

app_name = "exports"
urlpatterns = [
    path("", export_views.index, name="index"),
    path("ledger/", export_views.ledger, name="ledger"),
    path("work-ledger/", export_views.work_ledger, name="work_ledger"),
    path("placement/", export_views.placement, name="placement"),
    path("subsidies/", export_views.subsidies, name="subsidies"),
    path("follow-ups/", export_views.follow_ups, name="follow_ups"),
    path("jobs/<uuid:public_id>/", export_views.job, name="job"),
    path("jobs/<uuid:public_id>/download/", export_views.download, name="download"),
]
