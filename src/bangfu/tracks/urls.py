from django.urls import path

from bangfu.tracks import views

app_name = "tracks"
urlpatterns = [
    path("", views.figures, name="figures"),
    path("<uuid:track_id>/students/", views.track_students, name="students"),
    path("types/", views.type_list, name="types"),
    path("types/install/", views.install_defaults, name="install_defaults"),
    path("types/new/", views.type_create, name="type_new"),
    path("types/<uuid:public_id>/", views.type_edit, name="type_edit"),
    path("student/<uuid:student_id>/", views.student_tracks, name="student"),
    path("student/<uuid:student_id>/join/<uuid:track_id>/", views.join, name="join"),
    path("enrolments/<uuid:public_id>/milestone/", views.record, name="record"),
    path("enrolments/<uuid:public_id>/leave/", views.leave, name="leave"),
]
