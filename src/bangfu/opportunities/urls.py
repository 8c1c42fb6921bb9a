from django.urls import path

from bangfu.opportunities import views

app_name = "opportunities"
urlpatterns = [
    path("", views.index, name="index"),
    path("employers/", views.employer_list, name="employers"),
    path("employers/new/", views.employer_create, name="employer_create"),
    path("employers/<uuid:public_id>/", views.employer_detail, name="employer"),
    path("employers/<uuid:public_id>/edit/", views.employer_edit, name="employer_edit"),
    path("employers/<uuid:public_id>/positions/new/", views.position_create, name="position_create"),
    path("positions/", views.position_list, name="positions"),
    path("positions/<uuid:public_id>/", views.position_detail, name="position"),
    path("positions/<uuid:public_id>/edit/", views.position_edit, name="position_edit"),
    path("positions/<uuid:public_id>/recommend/", views.position_recommend, name="position_recommend"),
    path("events/", views.event_list, name="events"),
    path("events/new/", views.event_create, name="event_create"),
    path("events/<uuid:public_id>/", views.event_detail, name="event"),
    path("events/<uuid:public_id>/edit/", views.event_edit, name="event_edit"),
    path("events/<uuid:public_id>/attend/", views.event_attend, name="event_attend"),
]
