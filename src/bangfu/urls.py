from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from bangfu import views
from bangfu.organisation.ratelimit import limit_failed_logins

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("language/", views.switch_language, name="switch_language"),
    # Before Django's own accounts URLs, so that this login view (with its per-address limit) is the one served.
    path("accounts/login/", limit_failed_logins(auth_views.LoginView.as_view()), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/student/", include("bangfu.portal.account_urls")),
    path("students/", include("bangfu.students.urls")),
    path("me/", include("bangfu.portal.urls")),
    path("f/", include("bangfu.portal.followup_urls")),
    path("help/", include("bangfu.assistance.urls")),
    path("audit/", include("bangfu.audit.urls")),
    path("notifications/", include("bangfu.notifications.urls")),
    path("opportunities/", include("bangfu.opportunities.urls")),
    path("jobs/", include("bangfu.opportunities.student_urls")),
    path("outcomes/", include("bangfu.outcomes.urls")),
    path("subsidies/", include("bangfu.subsidies.urls")),
    path("cases/", include("bangfu.showcase.urls")),
    path("tracks/", include("bangfu.tracks.urls")),
    path("imports/", include("bangfu.imports.urls")),
    path("reports/pdf/", include("bangfu.reports.pdf_urls")),
    path("reports/", include("bangfu.reports.urls")),
    path("reports/exports/", include("bangfu.reports.export_urls")),
    path("api/v1/", include("bangfu.api.urls")),
    path("admin/", admin.site.urls),
]
