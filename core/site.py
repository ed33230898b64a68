"""The site's public base URL: what QR codes, posters, links in messages and Open311 point at."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

# Where `dev.py run` serves by default: the last resort for a message written without a request.
DEV_SITE_URL = "http://127.0.0.1:8000"


def site_url(request: HttpRequest | None = None) -> str:
    """``JXT_SITE_URL`` when set; else the address ``request`` came to, so a poster printed from the
    site points where the site really is (another port, a LAN address); else the dev server's.

    ``request.get_host()`` is checked against ALLOWED_HOSTS, so a forged Host header is refused
    before it could reach a printed QR code.
    """
    if settings.SITE_URL:
        return settings.SITE_URL
    if request is not None:
        return f"{request.scheme}://{request.get_host()}"
    return DEV_SITE_URL
