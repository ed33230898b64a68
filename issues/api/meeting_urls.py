"""Routes of the joint-meeting and standing-mechanism API (mounted under /api/v1/ by config.api_urls)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from .meeting_views import MechanismViewSet, MeetingViewSet

router = SimpleRouter()
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("mechanisms", MechanismViewSet, basename="mechanism")

urlpatterns = router.urls
