"""The student portal at /me/: the student's own pages (404 for anyone without a student record), and the
helper's page for a revised résumé (`students/<id>/resume/`)."""

from django.urls import path

from bangfu.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("recommendations/", views.recommendations, name="recommendations"),
    path("recommendations/<uuid:recommendation_id>/answer/", views.answer, name="answer"),
    path("resume/", views.resume, name="resume"),
    path("resume/<uuid:version_id>/file/", views.resume_file, name="resume_file"),
    path("subsidies/", views.subsidies, name="subsidies"),
    path("subsidies/apply/<uuid:type_id>/", views.apply, name="apply"),
    path("subsidies/<uuid:application_id>/", views.application, name="application"),
    path("subsidies/<uuid:application_id>/submit/", views.submit, name="submit"),
    path("subsidies/<uuid:application_id>/withdraw/", views.withdraw, name="withdraw"),
    path("destination/", views.destination, name="destination"),
    path("data/", views.my_data, name="data"),
    path("data/consents/<uuid:consent_id>/withdraw/", views.withdraw_consent, name="withdraw_consent"),
    # Staff: the helper uploads a revised résumé for their student.
    path("students/<uuid:student_id>/resume/", views.staff_resume, name="staff_resume"),
]
