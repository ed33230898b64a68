"""Public URLs of 双报到 (mounted at /members/ by config/urls.py)."""

from __future__ import annotations

from django.urls import path

from . import public_views

urlpatterns = [
    path("register/<str:code>/", public_views.register, name="member-register"),
    path("status/", public_views.status, name="member-status"),
]
