"""The 双报到 staff pages, mounted at /staff/members/ (namespace ``members``) by ``config/urls.py``."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "members"

urlpatterns = [
    path("", views.member_list, name="member-list"),
    path("new/", views.registration_new, name="registration-new"),
    path("organizations/", views.organization_list, name="organization-list"),
    path("needs/", views.need_list, name="need-list"),
    path("needs/new/", views.need_new, name="need-new"),
    path("needs/<int:pk>/", views.need_detail, name="need-detail"),
    path("needs/<int:pk>/<slug:action>/", views.need_action, name="need-action"),
    path("claims/", views.claim_list, name="claim-list"),
    path("claims/<int:pk>/", views.claim_detail, name="claim-detail"),
    path("claims/<int:pk>/photo/", views.claim_photo, name="claim-photo"),
    path("claims/<int:pk>/<slug:action>/", views.claim_action, name="claim-action"),
    path("teams/<int:pk>/<slug:action>/", views.team_action, name="team-action"),
    path("<int:pk>/", views.registration_detail, name="registration-detail"),
    path("<int:pk>/<slug:action>/", views.registration_action, name="registration-action"),
]
