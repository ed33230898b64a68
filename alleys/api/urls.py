"""Routes of the territory API (mounted under /api/v1/ by config.api_urls)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from .views import AlleyViewSet, AreaViewSet, DepartmentViewSet

router = SimpleRouter()
router.register("areas", AreaViewSet, basename="area")
router.register("alleys", AlleyViewSet, basename="alley")
router.register("departments", DepartmentViewSet, basename="department")

urlpatterns = router.urls
