"""Public URLs of the residents' channel (no namespace: ``alley-short`` is reversed by AlleyProfile.report_path)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="public-home"),
    path("report/", views.report_start, name="public-report"),
    path("report/done/<str:code>/", views.report_done, name="public-report-done"),
    path("a/<str:code>/", views.alley_report, name="alley-short"),
    path("track/", views.track, name="public-track"),
    path("track/<str:code>/", views.track_case, name="public-track-case"),
    path("mine/", views.mine, name="public-mine"),
    path("board/", views.board, name="public-board"),
    path("alley/", views.alley_find, name="public-alley-find"),
    path("alley/<str:code>/", views.alley_page, name="public-alley"),
    path("alley/<str:code>/poster/", views.alley_poster, name="public-alley-poster"),
    path("photo/<int:pk>/", views.public_photo, name="public-photo"),
    path("photo/<int:pk>/thumb/", views.public_photo, {"size": "thumb"}, name="public-photo-thumb"),
]
