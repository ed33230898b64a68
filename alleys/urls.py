"""Public URLs of the territory app."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("a/<str:code>/qr.svg", views.alley_qr, name="alley-qr"),
]
