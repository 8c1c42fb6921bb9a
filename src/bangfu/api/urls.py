"""Mounted at /api/v1/. The API authenticates in ninja (session or bearer token) and answers 401 itself,
so Django's LoginRequiredMiddleware, which would redirect to the login page, is switched off for its views."""

from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver

from bangfu.api.api import api

app_name = "api"


def _exempt(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _exempt(pattern.url_patterns)
        else:
            login_not_required(pattern.callback)
    return patterns


urlpatterns = _exempt(api.urls[0])
