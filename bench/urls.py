"""The project's URLs plus the bare baseline under /bench/baseline/."""

from __future__ import annotations

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("bench/baseline/", include("bench.baseline.urls")),
    *project_urlpatterns,
]
