from django.urls import path

from bangfu.subsidies import views

app_name = "subsidies"
urlpatterns = [
    path("", views.application_list, name="applications"),
    path("notice/", views.start_notice, name="start_notice"),
    path("types/", views.type_list, name="types"),
    path("types/install/", views.install_defaults, name="install_defaults"),
    path("types/new/", views.type_create, name="type_new"),
    path("types/<uuid:public_id>/", views.type_edit, name="type_edit"),
    path("budgets/", views.budgets, name="budgets"),
    path("batches/", views.batch_list, name="batches"),
    path("batches/new/", views.batch_create, name="batch_new"),
    path("batches/<uuid:public_id>/", views.batch_detail, name="batch"),
    path("batches/<uuid:public_id>/export/", views.batch_export, name="batch_export"),
    path("batches/<uuid:public_id>/paid/", views.batch_paid, name="batch_paid"),
    path("batches/<uuid:public_id>/remove/<uuid:application_id>/", views.batch_remove, name="batch_remove"),
    path("students/<uuid:student_id>/apply/", views.apply_choose, name="apply_choose"),
    path("students/<uuid:student_id>/apply/<uuid:type_id>/", views.apply, name="apply"),
    path("<uuid:public_id>/", views.application_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.application_edit, name="edit"),
    path("<uuid:public_id>/evidence/", views.evidence, name="evidence"),
    path("<uuid:public_id>/receipts/", views.add_receipt, name="add_receipt"),
    path("<uuid:public_id>/receipts/<int:receipt_id>/", views.receipt, name="receipt"),
    path("<uuid:public_id>/submit/", views.submit, name="submit"),
    path("<uuid:public_id>/withdraw/", views.withdraw, name="withdraw"),
    path("<uuid:public_id>/approve-department/", views.approve_department, name="approve_department"),
    path("<uuid:public_id>/approve-school/", views.approve_school, name="approve_school"),
    path("<uuid:public_id>/approve-final/", views.approve_final, name="approve_final"),
    path("<uuid:public_id>/return/", views.return_for_revision, name="return"),
    path("<uuid:public_id>/reject/", views.reject, name="reject"),
    path("<uuid:public_id>/objections/", views.record_objection, name="record_objection"),
    path(
        "<uuid:public_id>/objections/<uuid:objection_id>/resolve/",
        views.resolve_objection,
        name="resolve_objection",
    ),
]
