"""Routes of the territory API (mounted under /api/v1/ by config.api_urls)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from .expense_views import ExpenseViewSet
from .views import AlleyViewSet, AreaViewSet, DepartmentViewSet

router = SimpleRouter()
router.register("areas", AreaViewSet, basename="area")
router.register("alleys", AlleyViewSet, basename="alley")
router.register("departments", DepartmentViewSet, basename="department")
router.register("expenses", ExpenseViewSet, basename="expense")

urlpatterns = router.urls
