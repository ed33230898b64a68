"""Routes of the notices and deliberation API (mounted under /api/v1/ by config.api_urls)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from .views import NoticeViewSet, TopicViewSet

router = SimpleRouter()
router.register("notices", NoticeViewSet, basename="notice")
router.register("topics", TopicViewSet, basename="topic")
