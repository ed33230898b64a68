"""alleys/views.py: the public QR code of an alley's board."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from alleys.views import alley_report_url
from tests.factories import Tree

pytestmark = pytest.mark.django_db


def qr_url(code: str) -> str:
    return reverse("alley-qr", kwargs={"code": code})


def test_alley_qr_is_a_public_cacheable_svg(client: Client, tree: Tree) -> None:
    code = tree["d1s1c1a1"].code
    response = client.get(qr_url(code))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    body = response.content.decode()
    assert body.startswith("<svg") and "<path" in body
    assert "public" in response["Cache-Control"] and "max-age=86400" in response["Cache-Control"]
    assert response["ETag"]


def test_qr_revalidation_answers_not_modified(client: Client, tree: Tree) -> None:
    first = client.get(qr_url(tree["d1s1c1a1"].code))
    again = client.get(qr_url(tree["d1s1c1a1"].code), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_qr_of_a_different_alley_differs(client: Client, tree: Tree) -> None:
    one = client.get(qr_url(tree["d1s1c1a1"].code))
    two = client.get(qr_url(tree["d1s1c1a2"].code))
    assert one.content != two.content and one["ETag"] != two["ETag"]


@pytest.mark.parametrize("code", ["350501001001099", "350501001001", "350501", "abc"])
def test_qr_is_404_for_unknown_or_non_alley_codes(client: Client, tree: Tree, code: str) -> None:
    assert client.get(f"/a/{code}/qr.svg").status_code == 404


def test_qr_refuses_writes(client: Client, tree: Tree) -> None:
    assert client.post(qr_url(tree["d1s1c1a1"].code)).status_code == 405


def test_report_url_falls_back_when_the_resident_form_is_not_routed(settings: Any) -> None:
    settings.ROOT_URLCONF = "alleys.urls"  # the QR alone, no resident form
    settings.SITE_URL = "https://jxt.example.cn"
    assert alley_report_url("350501001001001") == "https://jxt.example.cn/a/350501001001001/"


def test_report_url_uses_the_resident_forms_route(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.alleys.resident_urls"
    settings.SITE_URL = "https://jxt.example.cn"
    assert alley_report_url("350501001001001") == "https://jxt.example.cn/r/350501001001001/"
