from django.urls import include, path

from bangfu.assistance import views

app_name = "assistance"
urlpatterns = [
    path("mine/", views.my_students, name="my_students"),
    path("caseload/", views.caseload, name="caseload"),
    path("bulk-assign/", views.bulk_assign_view, name="bulk_assign"),
    path("<uuid:student_public_id>/assign/", views.assign, name="assign"),
    path("<uuid:student_public_id>/hand-over/", views.hand_over_view, name="hand_over"),
    path("<uuid:student_public_id>/end/", views.end, name="end"),
    # Leaders' compliance pages and the school's policy settings live in their own module.
    path("", include("bangfu.assistance.leader_urls")),
]
