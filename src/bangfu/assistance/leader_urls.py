"""Leaders' pages under /help/, in the `assistance` namespace: compliance, and the school's policy settings."""

from django.urls import path

from bangfu.assistance import leader_views

urlpatterns = [
    path("compliance/", leader_views.compliance, name="compliance"),
    path("policy/", leader_views.policy, name="policy"),
]
