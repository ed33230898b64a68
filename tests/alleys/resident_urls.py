"""A URLconf with a stand-in for the resident form's short URL (``alley-short``), for tests of the QR code."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def _stand_in(request: HttpRequest, code: str) -> HttpResponse:
    return HttpResponse(code)


urlpatterns = [
    path("r/<str:code>/", _stand_in, name="alley-short"),
    path("", include("config.urls")),
]
