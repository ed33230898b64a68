"""A URLconf with a stand-in for the resident form's short URL (``alley-short``) at a path of its own,
so tests can tell the routed URL from the fallback."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def _stand_in(request: HttpRequest, code: str) -> HttpResponse:
    return HttpResponse(code)


urlpatterns = [
    path("r/<str:code>/", _stand_in, name="alley-short"),
    path("", include("alleys.urls")),
]
