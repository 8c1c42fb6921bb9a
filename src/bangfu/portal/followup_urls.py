"""Follow-ups after leaving at /f/: the graduate's one-time answer form (no login), and the helper's list of
graduates due a follow-up with the button that e-mails them a link."""

from django.urls import path

from bangfu.portal import followup_views

app_name = "followup"
urlpatterns = [
    path("due/", followup_views.due, name="due"),
    path("send/<uuid:public_id>/", followup_views.send, name="send"),
    path("answer/", followup_views.answer, name="answer"),
    path("thanks/", followup_views.thanks, name="thanks"),
    path("<str:token>/", followup_views.link, name="link"),
]
