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
    # The work ledger of one student.
    path("<uuid:student_public_id>/log/", views.quick_log, name="quick_log"),
    path("<uuid:student_public_id>/activities/new/", views.activity_new, name="activity_new"),
    path(
        "<uuid:student_public_id>/activities/<uuid:activity_public_id>/edit/",
        views.activity_edit,
        name="activity_edit",
    ),
    path(
        "<uuid:student_public_id>/activities/<uuid:activity_public_id>/correct/",
        views.activity_correct,
        name="activity_correct",
    ),
    path(
        "<uuid:student_public_id>/activities/<uuid:activity_public_id>/file/",
        views.activity_attachment,
        name="activity_attachment",
    ),
    path("<uuid:student_public_id>/timeline/", views.timeline, name="timeline"),
    path("<uuid:student_public_id>/plan/", views.plan, name="plan"),
    path("<uuid:student_public_id>/plan/review/", views.plan_review, name="plan_review"),
    # Leaders' compliance pages and the school's policy settings live in their own module.
    path("", include("bangfu.assistance.leader_urls")),
]
