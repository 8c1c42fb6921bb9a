from django.urls import path

from bangfu.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.index, name="index"),
    path("changes/", views.history, name="history"),
    path("access/", views.access, name="access"),
]
