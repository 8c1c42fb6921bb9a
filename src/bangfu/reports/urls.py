"""Dashboards under /reports/; exports and PDFs include their own modules from `bangfu.urls`."""

from django.urls import path

from bangfu.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="dashboard"),
    path("province/", views.province, name="province"),
    path("school/", views.school, name="school"),
    path("department/", views.department, name="department"),
    path("mine/", views.helper, name="helper"),
]
