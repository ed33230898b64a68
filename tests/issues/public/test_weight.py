"""The form page is light (under 100 KB with its CSS, JS and icons) and nothing comes from another site."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from .helpers import Place, text_of

pytestmark = pytest.mark.django_db

BUDGET = 100 * 1024
_ASSET = re.compile(r'(?:href|src)="([^"#]+)(?:#[^"]*)?"')


def page_assets(html: str) -> set[str]:
    """Static files the page loads by itself: stylesheets, scripts, images and SVG sprites."""
    tags = re.findall(r"<(?:link|script|img|use)\b[^>]*>", html)
    found = set()
    for tag in tags:
        if tag.startswith("<link") and 'rel="stylesheet"' not in tag:
            continue
        found.update(_ASSET.findall(tag))
    return found


def static_size(url: str) -> int:
    assert url.startswith(settings.STATIC_URL), f"{url} is not served by the app's static files"
    path = finders.find(url.removeprefix(settings.STATIC_URL))
    assert path, f"{url} is missing"
    return Path(str(path)).stat().st_size


def test_the_form_page_is_under_100_kb_before_photos(client: Client, place: Place) -> None:
    response = client.get(place.form_url)
    html = text_of(response)
    assets = page_assets(html)
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {"public.css", "public.js", "icons.svg"}
    total = len(response.content) + sum(static_size(a) for a in assets)
    print(f"form page: HTML {len(response.content)} B + assets {sorted(assets)} = {total / 1024:.1f} KB")
    assert total < BUDGET


@pytest.mark.parametrize("path", ["/", "/report/", "/track/", "/board/", "/alley/"])
def test_no_page_loads_anything_from_another_site(client: Client, place: Place, path: str) -> None:
    pages = [path, place.form_url, f"/alley/{place.alley.code}/", f"/alley/{place.alley.code}/poster/"]
    for page in pages:
        html = text_of(client.get(page))
        for asset in page_assets(html):
            assert not re.match(r"^(https?:)?//", asset), f"{page} loads {asset} from elsewhere"
