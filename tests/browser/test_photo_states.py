"""Photos off the request path, as people see them (issue 18): the case's staff on a phone, a resident's tracking page.

A case with three report photos: one processed, one still being processed (处理中) and one
quarantined (照片处理失败，已隔离). The alley chief who holds the case sees all three states on the
case page at 360 px, nothing scrolls sideways and axe-core finds nothing; the resident's tracking
page shows the processed photo only, even when staff marked every one public.
Screenshots: test-artifacts/browser/photos/.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from issues.choices import PhotoState
from issues.models import CasePhoto
from issues.workflow import case_submit
from tests.issues.public.helpers import Place
from tests.issues.staff.helpers import png

from .conftest import PHONE, axe_violations, describe, logged_in_context, shot

pytestmark = pytest.mark.browser


def test_the_holder_sees_each_photo_state_and_residents_only_the_processed_photo(
    chromium: Any, live_server: Any, place: Place
) -> None:
    world = place.world
    # Committed for real (the live server's tests): the tasks run eagerly at commit, as a worker would.
    case = case_submit(
        category=place.lamp,
        alley=world.alley_x,
        description="巷口路灯不亮，附三张照片",
        photos=[png("a.png", "green"), png("b.png", "blue"), png("c.png", "red")],
    )
    ready, pending, broken = case.photos.order_by("pk")
    assert {p.state for p in (ready, pending, broken)} == {PhotoState.READY}
    # As if the second were still waiting for a worker and the third had failed to decode.
    CasePhoto.objects.filter(pk=pending.pk).update(state=PhotoState.PENDING, image="", thumbnail="")
    CasePhoto.objects.filter(pk=broken.pk).update(
        state=PhotoState.QUARANTINED, image="", thumbnail="", failure="图片数据不完整"
    )
    CasePhoto.objects.filter(case=case).update(
        is_public=True
    )  # staff said so: still only the processed one shows

    context = logged_in_context(chromium, world.chief_x, live_server, viewport=PHONE, is_mobile=True)
    page = context.new_page()
    page.goto(live_server.url + reverse("staff:case-detail", kwargs={"pk": case.pk}))
    assert page.locator(".photo-pending").count() == 1
    assert "处理中" in page.locator(".photo-pending").inner_text()
    assert page.locator(".photo-quarantined").count() == 1
    assert "已隔离" in page.locator(".photo-quarantined").inner_text()
    images = page.locator("img").evaluate_all("els => els.map(e => [e.src, e.naturalWidth])")
    photo_images = [src for src, _ in images if "/photo" in src or "/media/" in src]
    assert len(photo_images) == 1, images  # the processed photo, and nothing of the other two
    # The photo is loading="lazy": on a phone it may sit below the fold, so bring it into view and
    # wait for the browser to have decoded it, rather than reading its width while it is still loading.
    photo = page.locator(f'img[src="{photo_images[0].removeprefix(live_server.url)}"]')
    photo.scroll_into_view_if_needed()
    assert photo.evaluate("img => img.decode().then(() => img.naturalWidth, () => 0)"), (
        "the processed photo loads"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "photos/staff-case-phone")
    violations = axe_violations(page)
    assert not violations, describe(violations)
    context.close()

    resident = chromium.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True)
    page = resident.new_page()
    page.goto(live_server.url + reverse("public-track-case", kwargs={"code": case.tracking_code}))
    sources = page.locator("img").evaluate_all("els => els.map(e => e.src)")
    photos = [src for src in sources if "/photo" in src]
    assert len(photos) == 1 and f"/{ready.pk}/" in photos[0], sources  # the processed one only
    assert "处理中" not in page.locator("main").inner_text()
    shot(page, "photos/tracking-phone")
    resident.close()
