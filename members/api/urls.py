"""Routes of the 双报到 API (mounted under /api/v1/ by config.api_urls)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from .views import ClaimViewSet, NeedViewSet, RegistrationViewSet

router = SimpleRouter()
router.register("member-registrations", RegistrationViewSet, basename="member-registration")
router.register("member-needs", NeedViewSet, basename="member-need")
router.register("member-claims", ClaimViewSet, basename="member-claim")

urlpatterns = router.urls
