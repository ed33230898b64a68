"""The public survey page, mounted at /survey/ (residents never see /dashboard/)."""

from __future__ import annotations

from django.urls import path

from . import public_views

app_name = "survey"

urlpatterns = [
    path("<str:token>/", public_views.survey_answer, name="answer"),
]
