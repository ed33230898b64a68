"""Public URLs of residents' participation."""

from __future__ import annotations

from django.urls import path

from . import supervision_views, views

urlpatterns = [
    path("phone/", views.phone_start, name="phone-start"),
    path("phone/code/", views.phone_code, name="phone-code"),
    path("phone/forget/", views.phone_forget, name="phone-forget"),
    path("alley/<str:code>/supervise/", supervision_views.supervise, name="supervise"),
    path("alley/<str:code>/supervise/done/", supervision_views.supervise_done, name="supervise-done"),
]
