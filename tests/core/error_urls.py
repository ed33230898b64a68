"""The project's URLs plus views that fail on purpose, for the error-page tests."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django_ratelimit.exceptions import Ratelimited

from config.urls import handler400, handler403, handler404, handler500, urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("Attempted access to '../etc/passwd' denied.")


def limited(request: HttpRequest) -> HttpResponse:
    raise Ratelimited()


def denied(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("该街巷的巡查记录只有巷长可以查看。")


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom: connection to server at 10.0.0.5 failed")


urlpatterns = [
    path("staff/_test/suspicious/", suspicious),
    path("_test/suspicious/", suspicious),
    path("_test/limited/", limited),
    path("staff/_test/denied/", denied),
    path("staff/_test/broken/", broken),
    path("_test/broken/", broken),
    path("api/_test/broken/", broken),
    path("api/_test/suspicious/", suspicious),
    *urlpatterns,
]
