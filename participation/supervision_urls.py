"""The supervision list's staff pages, included under /staff/supervision/ in the staff namespace by ``issues/urls.py``."""

from __future__ import annotations

from django.urls import path

from . import supervision_views

urlpatterns = [
    path("", supervision_views.staff_list, name="supervision-list"),
    path("alley/<str:code>/", supervision_views.staff_alley, name="supervision-alley"),
    path("<int:pk>/edit/", supervision_views.staff_edit, name="supervision-edit"),
    path("<int:pk>/retire/", supervision_views.staff_retire, name="supervision-retire"),
]
