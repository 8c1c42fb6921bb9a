"""Student accounts at /accounts/student/: the office's batches of accounts and the students' first login."""

from django.urls import path

from bangfu.portal import account_views

app_name = "student_accounts"
urlpatterns = [
    path("", account_views.batch_list, name="batches"),
    path("new/", account_views.create, name="create"),
    path("batch/<uuid:public_id>/", account_views.batch_detail, name="batch"),
    path("batch/<uuid:public_id>/links.xlsx", account_views.batch_xlsx, name="batch_xlsx"),
    path("batch/<uuid:public_id>/renew/", account_views.batch_renew, name="batch_renew"),
    path("first-login/", account_views.first_login, name="first_login"),
    path("first-login/<str:token>/", account_views.first_login_link, name="first_login_link"),
]
