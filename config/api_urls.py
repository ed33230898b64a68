"""The REST API's mount point (``/api/``): version 1's routes, the OpenAPI schema and its docs.

The docs page loads Swagger UI from drf-spectacular-sidecar's static files, never from
a CDN, so it works on a government intranet; its start-up script is served by the split
view as a file of its own, so the Content-Security-Policy needs no inline script. (No ReDoc page: its template pulls web fonts
from Google.)
"""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from alleys.api.urls import router as alleys_router
from evaluation.api.urls import extra_urlpatterns as evaluation_extra_urlpatterns
from evaluation.api.urls import router as evaluation_router
from issues.api.meeting_urls import router as meetings_router
from issues.api.order_urls import router as dispatch_router
from issues.api.urls import extra_urlpatterns as issues_extra_urlpatterns
from issues.api.urls import router as issues_router
from members.api.urls import router as members_router
from participation.api.urls import router as participation_router
from participation.supervision_api import router as supervision_router

# One router for v1, so its root page lists every resource.
v1 = DefaultRouter()
for app_router in (
    issues_router,
    alleys_router,
    dispatch_router,
    meetings_router,
    supervision_router,
    participation_router,
    members_router,
    evaluation_router,
):
    v1.registry.extend(app_router.registry)

v1_urlpatterns = [*issues_extra_urlpatterns, *evaluation_extra_urlpatterns, *v1.urls]

urlpatterns = [
    path("v1/", include((v1_urlpatterns, "api"), namespace="v1")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
