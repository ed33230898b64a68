"""Public views of the territory: the QR code printed on an alley's responsibility board."""

from __future__ import annotations

import hashlib

import qrcode
import qrcode.constants
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import etag, require_safe
from qrcode.image.svg import SvgPathFillImage

from core.site import site_url

from .choices import AreaLevel
from .models import Area

# A printed board lives for years; the code's content only changes if the site's address does.
QR_MAX_AGE = 24 * 60 * 60


def alley_report_url(code: str, request: HttpRequest | None = None) -> str:
    """The absolute URL the alley's QR code opens (the resident form pre-set to the alley), on the
    site's address as core.site.site_url gives it for ``request``.

    The resident form (URL name ``alley-short``) may not be routed yet; the fallback
    is the same short path it will serve, so boards printed today keep working.
    """
    try:
        path = reverse("alley-short", kwargs={"code": code})
    except NoReverseMatch:
        path = f"/a/{code}/"
    return f"{site_url(request)}{path}"


def qr_svg(data: str) -> bytes:
    """An SVG QR code (white background, one path) encoding ``data``."""
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=4,
        image_factory=SvgPathFillImage,
    )
    qr.add_data(data)
    qr.make(fit=True)
    image = qr.make_image()
    svg: bytes = image.to_string()
    return svg


def _qr_etag(request: HttpRequest, code: str) -> str:
    # The ETag follows the encoded URL, so a changed site address invalidates cached copies.
    return hashlib.sha256(alley_report_url(code, request).encode()).hexdigest()[:32]


@require_safe
@cache_control(public=True, max_age=QR_MAX_AGE)
@etag(_qr_etag)
def alley_qr(request: HttpRequest, code: str) -> HttpResponse:
    """The board's QR code for the alley (or building: its form opens with the building chosen) with ``code``;
    public, since it is printed on the street."""
    levels = [AreaLevel.ALLEY, AreaLevel.BUILDING]
    if not code.isdigit() or not Area.objects.filter(code=code, level__in=levels).exists():
        raise Http404
    response = HttpResponse(qr_svg(alley_report_url(code, request)), content_type="image/svg+xml")
    response["Content-Disposition"] = f'inline; filename="alley-{code}-qr.svg"'
    return response
