from django.urls import path

from bangfu.outcomes import views

app_name = "outcomes"
urlpatterns = [
    path("unplaced/", views.unplaced_list, name="unplaced"),
    path("figures/", views.figures, name="figures"),
    path("student/<uuid:public_id>/", views.student_outcome, name="student"),
    path("student/<uuid:public_id>/destination/", views.record, name="record"),
    path("student/<uuid:public_id>/evidence/", views.evidence_upload, name="evidence_upload"),
    path("student/<uuid:public_id>/evidence/<uuid:destination_id>/", views.evidence, name="evidence"),
    path("student/<uuid:public_id>/verify/", views.verify, name="verify"),
    path("student/<uuid:public_id>/follow-up/", views.follow_up, name="follow_up"),
]
