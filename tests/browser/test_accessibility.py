"""axe-core on every residents' page, large tap targets, no sideways scrolling at 320 px or at 200 % zoom."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile

from issues.choices import CaseState, PhotoKind, PhotoState
from issues.models import CasePhoto
from tests.issues.public.helpers import Place, case_in, jpeg

from .conftest import AXE, PHONE, axe_violations, describe, shot

pytestmark = pytest.mark.browser


def resident_pages(place: Place) -> dict[str, str]:
    """Every page a resident sees, by a short name for the screenshots."""
    world = place.world
    waiting = case_in(world, state=CaseState.AWAITING_FEEDBACK)
    CasePhoto.objects.create(
        case=waiting,
        kind=PhotoKind.FIX,
        image=ContentFile(jpeg().read(), name="fix.jpg"),
        is_public=True,
        state=PhotoState.READY,
    )
    handling = case_in(world, state=CaseState.IN_PROGRESS)
    visit_due = case_in(world, state=CaseState.AWAITING_RETURN_VISIT)
    code = place.alley.code
    return {
        "home": "/",
        "report": "/report/",
        "report-street": f"/report/?street={world.street.code}",
        "form": f"/a/{code}/",
        "done": f"/report/done/{handling.tracking_code}/",
        "track": "/track/",
        "track-case": f"/track/{handling.tracking_code}/",
        "track-feedback": f"/track/{waiting.tracking_code}/",
        "track-return-visit": f"/track/{visit_due.tracking_code}/",
        "track-unknown": "/track/ZZZZZZZZ/",
        "board": "/board/",
        "board-community": f"/board/?area={world.community_x.code}",
        "alley": f"/alley/{code}/",
        "alley-find": "/alley/?q=金鱼",
        "poster": f"/alley/{code}/poster/",
    }


def test_axe_finds_no_violations(live_server: Any, phone: Any, place: Place) -> None:
    if not AXE.exists():
        pytest.skip(
            f"axe-core is not installed: run `npm ci` (or `npm install`) in the project root for {AXE}"
        )
    page = phone
    found = {}
    for path in resident_pages(place).values():
        page.goto(live_server.url + path)
        violations = axe_violations(page)
        if violations:
            found[path] = describe(violations)
    # The form again, as it looks after a refused submission (error summary, invalid fields).
    page.goto(live_server.url + place.form_url)
    page.get_by_role("button", name="提交", exact=True).click()
    page.locator("#error-summary").wait_for()
    shot(page, "20-form-errors")
    if violations := axe_violations(page):
        found["form with errors"] = describe(violations)
    assert not found, "\n".join(f"{path}:\n{text}" for path, text in found.items())


# Controls a finger must hit: at least 44 CSS pixels tall (WCAG 2.5.5); links inside running text are exempt.
TARGETS = (
    ".btn, .nav a, .links a, .action, .tile, .choice, .crumbs a, .photos a, .brand, "
    "input[type=text], input[type=tel], input[type=search], input[type=file], select, .check, .row-links a"
)


def test_tap_targets_are_large(live_server: Any, phone: Any, place: Place) -> None:
    page = phone
    small = []
    for path in resident_pages(place).values():
        page.goto(live_server.url + path)
        sizes = page.eval_on_selector_all(
            TARGETS,
            """els => els.filter(e => e.offsetParent !== null).map(e => {
                const r = e.getBoundingClientRect();
                return [e.tagName + '.' + e.className + ' ' + (e.textContent || '').trim().slice(0, 12), r.width, r.height];
            })""",
        )
        small += [f"{path}: {label} {w:.0f}×{h:.0f}" for label, w, h in sizes if h < 44 or w < 44]
    assert not small, "\n".join(small)


@pytest.mark.parametrize(
    ("viewport", "scale", "label"),
    [({"width": 320, "height": 640}, 1, "320px"), ({"width": 640, "height": 400}, 2, "zoom200")],
)
def test_no_sideways_scrolling_when_narrow_or_zoomed(
    live_server: Any, chromium: Any, place: Place, viewport: dict[str, int], scale: int, label: str
) -> None:
    """320 px is WCAG's reflow width; a 1280-px screen at 200 % zoom lays out like 640 CSS px."""
    context = chromium.new_context(viewport=viewport, device_scale_factor=scale, locale="zh-CN")
    page = context.new_page()
    wide = []
    for name, path in resident_pages(place).items():
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > viewport["width"]:
            wide.append(f"{path}: {width}px")
        if name in ("form", "track-feedback", "board-community"):
            shot(page, f"30-{label}-{name}")
    context.close()
    assert not wide, "\n".join(wide)


def test_the_form_page_transfers_under_100_kb(live_server: Any, chromium: Any, place: Place) -> None:
    context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    sizes: dict[str, int] = {}
    page.on(
        "requestfinished", lambda request: sizes.__setitem__(request.url, request.sizes()["responseBodySize"])
    )
    page.goto(live_server.url + place.form_url, wait_until="networkidle")
    context.close()
    assert all(url.startswith(live_server.url) or url.startswith("data:") for url in sizes), sizes
    total = sum(sizes.values())
    print(f"form page: {len(sizes)} responses, {total / 1024:.1f} KB")
    assert total < 100 * 1024


def test_an_address_guessing_codes_reads_why_it_is_refused(
    live_server: Any, phone: Any, place: Place, settings: Any
) -> None:
    """The tracking page's limit on wrong codes: a clear Chinese message, accessible, no case shown."""
    settings.JXT_TRACK_RATE_IP = "2/h"
    case = case_in(place.world, state=CaseState.IN_PROGRESS)
    page = phone
    for guess in ("ZZZZZZZ2", "ZZZZZZZ3"):
        assert page.goto(f"{live_server.url}/track/{guess}/").status == 404
    response = page.goto(f"{live_server.url}/track/{case.tracking_code}/")
    assert response.status == 200  # a right code is never counted
    response = page.goto(f"{live_server.url}/track/ZZZZZZZ4/")
    assert response.status == 429
    assert page.get_by_role("heading", name="查询太频繁了").is_visible()
    response = page.goto(f"{live_server.url}/track/{case.tracking_code}/")
    assert response.status == 429 and case.tracking_code not in page.content()
    shot(page, "21-track-too-many")
    if AXE.exists():
        assert not axe_violations(page), describe(axe_violations(page))
