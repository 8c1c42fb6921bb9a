from django.urls import path

from bangfu.showcase import views

app_name = "showcase"
urlpatterns = [
    # The public page (no login).
    path("", views.public_list, name="public_list"),
    path("<uuid:public_id>/", views.public_detail, name="public_detail"),
    path("<uuid:public_id>/photo/", views.public_photo, name="public_photo"),
    # Staff.
    path("manage/", views.case_list, name="list"),
    path("manage/types/", views.type_list, name="types"),
    path("manage/types/install/", views.install_defaults, name="install_defaults"),
    path("manage/types/new/", views.type_create, name="type_new"),
    path("manage/types/<uuid:public_id>/", views.type_edit, name="type_edit"),
    path("manage/<uuid:public_id>/", views.case_detail, name="detail"),
    path("manage/<uuid:public_id>/edit/", views.case_edit, name="edit"),
    path("manage/<uuid:public_id>/photo/", views.case_photo, name="photo"),
    path("manage/<uuid:public_id>/approve/", views.approve, name="approve"),
    path("manage/<uuid:public_id>/reject/", views.reject, name="reject"),
    path("manage/<uuid:public_id>/publish/", views.publish, name="publish"),
    path("manage/<uuid:public_id>/unpublish/", views.unpublish, name="unpublish"),
    path("students/<uuid:student_id>/", views.student_page, name="student"),
    path("students/<uuid:student_id>/nominate/", views.nominate, name="nominate"),
    path("students/<uuid:student_id>/consent/", views.record_consent, name="record_consent"),
    path("consents/<uuid:consent_id>/withdraw/", views.withdraw_consent, name="withdraw_consent"),
    path("consents/<uuid:consent_id>/evidence/", views.consent_evidence, name="consent_evidence"),
    # The student's own consent.
    path("me/", views.my_consent, name="my"),
]
