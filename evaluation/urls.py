"""Dashboards and evaluation pages, mounted at /dashboard/."""

from __future__ import annotations

from django.urls import path

from . import views, work_views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("drill/", views.drill, name="drill"),
    path("categories/", views.categories, name="categories"),
    path("departments/", views.departments, name="departments"),
    path("held/", views.held, name="held"),
    path("chiefs/", views.chiefs, name="chiefs"),
    path("members/", views.members, name="members"),
    path("wall/", views.wall, name="wall"),
    path("definitions/", views.definitions, name="definitions"),
    path("export/<slug:what>/", views.export, name="export"),
    path("evaluations/", work_views.evaluations, name="evaluations"),
    path("evaluations/order/<int:order_id>/", work_views.evaluation_new, name="evaluation-new"),
    path("surveys/", work_views.surveys, name="surveys"),
    path("surveys/open/<int:case_id>/", work_views.survey_open, name="survey-open"),
    path("surveys/<int:pk>/", work_views.survey_detail, name="survey-detail"),
    path("surveys/<int:pk>/qr.svg", work_views.survey_qr, name="survey-qr"),
    path("surveys/<int:pk>/print/", work_views.survey_print, name="survey-print"),
    path("surveys/<int:pk>/invites/", work_views.survey_invites, name="survey-invites"),
    path("surveys/<int:pk>/close/", work_views.survey_close, name="survey-close"),
    path("assessments/", work_views.assessments, name="assessments"),
    path("assessments/compute/", work_views.assessment_compute, name="assessment-compute"),
    path("assessments/summary/", work_views.assessment_summary, name="assessment-summary"),
    path("assessments/summary/export/", views.assessment_summary_export, name="assessment-summary-export"),
    path("assessments/<int:pk>/", work_views.assessment_detail, name="assessment"),
    path("assessments/<int:pk>/export/", views.assessment_export, name="assessment-export"),
    path("assessments/<int:pk>/<slug:action>/", work_views.assessment_action, name="assessment-action"),
]
