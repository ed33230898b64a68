"""Public URLs of residents' participation."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("phone/", views.phone_start, name="phone-start"),
    path("phone/code/", views.phone_code, name="phone-code"),
    path("phone/forget/", views.phone_forget, name="phone-forget"),
]
