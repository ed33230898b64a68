"""Routes of the evaluation API (mounted under /api/v1/ by config.api_urls)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import CaseRatesView, EvaluationViewSet, OrderRatesView

router = SimpleRouter()
router.register("evaluations", EvaluationViewSet, basename="evaluation")

extra_urlpatterns = [
    path("rates/", CaseRatesView.as_view(), name="rates"),
    path("rates/departments/", OrderRatesView.as_view(), name="department-rates"),
]

urlpatterns = [*extra_urlpatterns, *router.urls]
