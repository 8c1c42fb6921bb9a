from django.urls import path

from bangfu.reports import pdf_views

app_name = "reports_pdf"
urlpatterns = [
    path("dossier/<uuid:public_id>/", pdf_views.dossier, name="dossier"),
    path("yearly/", pdf_views.yearly, name="yearly"),
]
