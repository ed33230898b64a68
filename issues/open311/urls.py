"""Open311 GeoReport v2 routes (mounted at /open311/v2/): every resource in ``.xml`` and ``.json``."""

from __future__ import annotations

from django.urls import re_path

from . import views

FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

urlpatterns = [
    re_path(rf"^discovery{FMT}", views.discovery, name="open311-discovery"),
    re_path(rf"^services{FMT}", views.services, name="open311-services"),
    re_path(rf"^services/(?P<code>[^/.]+){FMT}", views.service_definition, name="open311-service"),
    re_path(rf"^requests{FMT}", views.requests, name="open311-requests"),
    re_path(rf"^requests/(?P<request_id>[^/.]+){FMT}", views.request_detail, name="open311-request"),
    re_path(rf"^tokens/(?P<token>[^/.]+){FMT}", views.token, name="open311-token"),
]
