from django.urls import path

from bangfu.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("new/", views.upload, name="upload"),
    path("templates/<slug:target>/", views.template, name="template"),
    path("<uuid:public_id>/", views.job_detail, name="job"),
    path("<uuid:public_id>/columns/", views.mapping, name="mapping"),
    path("<uuid:public_id>/preview/", views.preview, name="preview"),
    path("<uuid:public_id>/problems/", views.error_report, name="errors"),
    path("<uuid:public_id>/import/", views.commit, name="commit"),
    path("<uuid:public_id>/cancel/", views.cancel, name="cancel"),
]
