"""Routes of the dispatch API (mounted under /api/v1/ by config.api_urls)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from .order_views import CommonIssueViewSet, ConsultationViewSet, ExtensionViewSet, OrderViewSet

router = SimpleRouter()
router.register("orders", OrderViewSet, basename="order")
router.register("extensions", ExtensionViewSet, basename="extension")
router.register("common-issues", CommonIssueViewSet, basename="common-issue")
router.register("consultations", ConsultationViewSet, basename="consultation")

urlpatterns = router.urls
