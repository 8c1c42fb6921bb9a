"""A student's jobs page (/jobs/<student>/) and the forms on it."""

from django.urls import path

from bangfu.opportunities import student_views as views

app_name = "jobs"
urlpatterns = [
    path("<uuid:student_public_id>/", views.student_jobs, name="student"),
    path("<uuid:student_public_id>/recommend/", views.recommend_view, name="recommend"),
    path(
        "<uuid:student_public_id>/recommendations/<uuid:recommendation_public_id>/step/",
        views.step,
        name="step",
    ),
    path("<uuid:student_public_id>/internships/", views.internship_new, name="internship_new"),
    path(
        "<uuid:student_public_id>/internships/<uuid:internship_public_id>/",
        views.internship_evaluate,
        name="internship_evaluate",
    ),
    path("<uuid:student_public_id>/order-classes/", views.order_class_join, name="order_class_join"),
    path(
        "<uuid:student_public_id>/order-classes/<uuid:membership_public_id>/leave/",
        views.order_class_leave,
        name="order_class_leave",
    ),
    path("<uuid:student_public_id>/work-study/", views.work_study_start, name="work_study_start"),
    path(
        "<uuid:student_public_id>/work-study/<uuid:assignment_public_id>/end/",
        views.work_study_end,
        name="work_study_end",
    ),
    path(
        "<uuid:student_public_id>/work-study/<uuid:assignment_public_id>/hours/",
        views.work_study_hours,
        name="work_study_hours",
    ),
]
