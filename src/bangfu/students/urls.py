from django.urls import include, path

from bangfu.students import views

app_name = "students"
urlpatterns = [
    path("", views.student_list, name="list"),
    path("new/", views.student_create, name="create"),
    path("me/", views.me, name="me"),
    path("ledger/", views.ledger, name="ledger"),
    path("survey/", include("bangfu.students.survey_urls")),
    path("<uuid:public_id>/", views.student_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.student_edit, name="edit"),
    path("<uuid:public_id>/reveal-id/", views.reveal_id, name="reveal_id"),
    path("<uuid:public_id>/ledger/join/", views.ledger_join, name="ledger_join"),
    path("<uuid:public_id>/ledger/edit/", views.ledger_edit, name="ledger_edit"),
    path("<uuid:public_id>/ledger/leave/", views.ledger_leave, name="ledger_leave"),
    path("<uuid:public_id>/evidence/<int:category_id>/", views.evidence, name="evidence"),
    path("<uuid:public_id>/evidence/<int:category_id>/upload/", views.evidence_upload, name="evidence_upload"),
]
