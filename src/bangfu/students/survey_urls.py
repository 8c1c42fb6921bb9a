from django.urls import path

from bangfu.students import survey_views

app_name = "survey"
urlpatterns = [
    path("", survey_views.survey_list, name="list"),
    path("<uuid:student_public_id>/", survey_views.survey_fill, name="fill"),
    path("<uuid:student_public_id>/decide/", survey_views.survey_decide, name="decide"),
]
