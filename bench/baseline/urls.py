"""Routes of the bare baseline (only under bench.settings)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("items/", views.BareCreate.as_view(), name="bare-create"),
    path("items/<int:pk>/", views.BareDetail.as_view(), name="bare-detail"),
]
