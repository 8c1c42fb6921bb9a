from django.urls import include, path

from bangfu.students import views

app_name = "students"
urlpatterns = [
    path("survey/", include("bangfu.students.survey_urls")),
]
