"""Routes of the case API (mounted under /api/v1/ by config.api_urls)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import (
    CaseViewSet,
    CategoryClassViewSet,
    CategoryTypeViewSet,
    MeView,
    ObtainTokenView,
    PatrolLogViewSet,
)

router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")
router.register("category-classes", CategoryClassViewSet, basename="category-class")
router.register("categories", CategoryTypeViewSet, basename="category")
router.register("patrols", PatrolLogViewSet, basename="patrol")

# Routes that are not viewsets (config.api_urls merges the routers into one v1 root).
extra_urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("auth/token/", ObtainTokenView.as_view(), name="token"),
]

urlpatterns = [*extra_urlpatterns, *router.urls]
