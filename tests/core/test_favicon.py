"""The site's icon (issue 16): one SVG, linked from every face, and ``/favicon.ico`` not a 404."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse

from tests.factories import World

pytestmark = pytest.mark.django_db

ICON_LINK = f'<link rel="icon" href="{static("favicon.svg")}" type="image/svg+xml">'


def test_the_icon_is_a_static_svg_file() -> None:
    path = finders.find("favicon.svg")
    assert path is not None
    with open(path, encoding="utf-8") as svg:
        text = svg.read()
    assert text.startswith("<svg") and "<script" not in text


def test_browsers_automatic_request_is_redirected_to_the_icon(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code in (301, 302)
    assert response["Location"] == static("favicon.svg")


def test_every_face_links_the_icon(client: Client, login: Callable[[str], Client], world: World) -> None:
    officer = login("district_officer")
    admin = Client()
    admin.force_login(world.city_officer)
    pages = {
        "residents' home": client.get("/"),
        "staff workbench": login("chief_x").get(reverse("staff:home")),
        "dashboard": officer.get(reverse("dashboard:overview")),
        "wall screen": officer.get(reverse("dashboard:wall")),
        "admin": admin.get("/admin/"),
    }
    for face, response in pages.items():
        assert response.status_code == 200, face
        assert ICON_LINK in response.content.decode(), face
