"""Browser protections (issue 14): CSP without inline script, the other security headers, no-store.

Asserted on what a browser receives: the response headers of a residents' page, a staff page,
an export and the API, and the HTML of a representative set of rendered pages parsed for
inline script and inline style (which the Content-Security-Policy would block).
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from issues.models import Case
from tests.factories import World, make_case
from tests.issues.public.helpers import build_place

pytestmark = pytest.mark.django_db


def directives(response: Any) -> dict[str, str]:
    policy = response.headers.get("Content-Security-Policy", "")
    parts = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


def assert_browser_headers(response: Any) -> None:
    csp = directives(response)
    assert csp.get("script-src") == "'self'", csp
    assert "'unsafe-inline'" not in csp.get("style-src", "'unsafe-inline'"), csp
    assert csp.get("default-src") == "'self'"
    assert csp.get("frame-ancestors") == "'none'"
    assert csp.get("object-src") == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    permissions = response.headers["Permissions-Policy"]
    assert "camera=()" in permissions and "microphone=()" in permissions
    assert "geolocation=(self)" in permissions  # the residents' form may ask for the position


def no_store(response: Any) -> bool:
    return "no-store" in response.headers.get("Cache-Control", "")


def test_headers_on_a_residents_page(client: Client, world: World) -> None:
    response = client.get(reverse("public-home"))
    assert response.status_code == 200
    assert_browser_headers(response)
    assert not no_store(response)  # a public page may be cached


def test_headers_and_no_store_on_a_staff_page(login: Callable[[str], Client]) -> None:
    response = login("chief_x").get(reverse("staff:home"))
    assert response.status_code == 200
    assert_browser_headers(response)
    assert no_store(response)
    assert "private" in response.headers["Cache-Control"]


def test_no_store_on_dashboards_exports_and_the_admin(login: Callable[[str], Client], world: World) -> None:
    officer = login("district_officer")
    export = officer.get(reverse("dashboard:export", args=["departments"]) + "?fmt=csv")
    assert export.status_code == 200
    assert export.headers["Content-Type"].startswith("text/csv")
    assert no_store(export)
    assert no_store(officer.get(reverse("dashboard:overview")))
    admin = Client()
    admin.force_login(world.city_officer)
    assert no_store(admin.get("/admin/"))


def test_the_api_with_credentials_is_not_stored(world: World) -> None:
    make_case(world)
    client = APIClient()
    client.force_authenticate(world.chief_x)
    response = client.get("/api/v1/cases/")
    assert response.status_code == 200
    assert_browser_headers(response)
    assert no_store(response)
    # Anonymous reads of public data may be cached like any public page.
    assert not no_store(Client().get("/open311/v2/services.json"))


def test_a_residents_tracking_page_is_not_stored(client: Client, world: World) -> None:
    case = make_case(world)
    response = client.get(reverse("public-track-case", args=[case.tracking_code]))
    assert no_store(response)


class InlineFinder(HTMLParser):
    """Collects what a strict CSP blocks: inline <script>, on* attributes, inline styles, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._script_without_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        # A data block (json_script's type="application/json") is never run, so CSP allows it.
        data_block = (names.get("type") or "").lower() in ("application/json", "application/ld+json")
        if tag == "script" and not names.get("src") and not data_block:
            self._script_without_src = True
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name == "style":
                self.found.append(f"<{tag} style={value!r}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")

    def handle_data(self, data: str) -> None:
        if self._script_without_src and data.strip():
            self.found.append(f"<script>{data.strip()[:60]}…")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script_without_src = False


def inline_parts(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


def test_no_inline_script_or_style_in_rendered_pages(world: World) -> None:
    place = build_place(world)
    case = make_case(world, alley=world.alley_x)
    assert Case.objects.filter(pk=case.pk).exists()
    resident = Client()
    pages: dict[str, Client] = {
        reverse("public-home"): resident,
        reverse("public-report"): resident,
        reverse("alley-short", args=[place.world.alley_x.code]): resident,
        reverse("public-track"): resident,
        reverse("public-track-case", args=[case.tracking_code]): resident,
        reverse("public-board"): resident,
    }
    chief = Client()
    chief.force_login(world.chief_x)
    for name in ("staff:home", "staff:case-list", "staff:patrol-list", "staff:order-list", "staff:inbox"):
        pages[reverse(name)] = chief
    pages[reverse("staff:case-detail", args=[case.pk])] = chief
    officer = Client()
    officer.force_login(world.district_officer)
    for name in ("overview", "drill", "categories", "departments", "held", "chiefs", "wall", "assessments"):
        pages[reverse(f"dashboard:{name}")] = officer
    superuser = Client()
    superuser.force_login(world.city_officer)
    superuser_user = world.city_officer
    superuser_user.is_staff = superuser_user.is_superuser = True
    superuser_user.save()
    pages["/admin/"] = superuser
    pages["/admin/issues/case/"] = superuser
    pages[f"/admin/issues/case/{case.pk}/change/"] = superuser
    pages[reverse("api-docs")] = superuser
    pages["/no-such-page/"] = resident  # the 404 page
    found = {}
    for url, client in pages.items():
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        if parts := inline_parts(response.content.decode()):
            found[url] = parts
    assert not found, found


def test_the_api_docs_script_is_a_file_of_its_own(client: Client) -> None:
    page = client.get(reverse("api-docs"))
    scripts = [
        src
        for tag, attrs in _tags(page.content.decode())
        if tag == "script"
        for k, src in attrs
        if k == "src"
    ]
    own = [src for src in scripts if src and src.startswith(reverse("api-docs"))]
    assert own, scripts
    script = client.get(own[0])
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.append((tag, attrs))

    Collector().feed(html)
    return tags
