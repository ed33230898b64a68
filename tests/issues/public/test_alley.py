"""The alley's public page (公示牌), its A4 poster, the landing page and finding an alley."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from alleys.views import qr_svg

from .helpers import (
    BOARD_PHONE,
    CHIEF_NAME,
    CHIEF_PHONE,
    DEPUTY_NAME,
    OFFICE_HOURS,
    POLICE_NAME,
    Place,
    text_of,
)

pytestmark = pytest.mark.django_db


def test_the_alley_page_shows_the_board_without_personal_phones(client: Client, place: Place) -> None:
    code = place.alley.code
    html = text_of(client.get(reverse("public-alley", kwargs={"code": code})))
    assert CHIEF_NAME in html and DEPUTY_NAME in html and f"民警：{POLICE_NAME}" in html
    assert OFFICE_HOURS in html and BOARD_PHONE in html
    assert "门前三包" in html and "垃圾分类" in html
    for private in (CHIEF_PHONE, "13700137000", "13600136000", "login_name_only", "chief_x", "deputy_x"):
        assert private not in html
    assert f'src="{reverse("alley-qr", kwargs={"code": code})}"' in html
    assert f'href="/a/{code}/"' in html and f"/alley/{code}/poster/" in html


def test_the_poster_has_the_qr_code_the_short_url_and_the_team(
    client: Client, place: Place, settings: object
) -> None:
    code = place.alley.code
    html = text_of(client.get(reverse("public-alley-poster", kwargs={"code": code})))
    assert f"/a/{code}/qr.svg" in html
    assert f"http://testserver/a/{code}/" in html  # the address the page was asked for
    assert CHIEF_NAME in html and OFFICE_HOURS in html and CHIEF_PHONE not in html
    assert "扫码反映问题" in html and "poster-page" in html


@pytest.mark.parametrize("host", ["127.0.0.1:8011", "192.168.1.20:8000", "localhost"])
def test_the_poster_and_its_qr_code_point_where_the_site_is_served(
    client: Client, place: Place, settings: Any, host: str
) -> None:
    """Unset JXT_SITE_URL: the request's address (another port, a LAN address), never port 8000."""
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = [host.rsplit(":", 1)[0]]
    code = place.alley.code
    html = text_of(client.get(reverse("public-alley-poster", kwargs={"code": code}), HTTP_HOST=host))
    assert f'<p class="poster-url">http://{host}/a/{code}/</p>' in html
    qr = client.get(reverse("alley-qr", kwargs={"code": code}), HTTP_HOST=host)
    assert qr.status_code == 200 and qr.content == qr_svg(f"http://{host}/a/{code}/")


def test_jxt_site_url_wins_over_the_requests_address(client: Client, place: Place, settings: Any) -> None:
    settings.SITE_URL = "https://jxt.example.cn"
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    code = place.alley.code
    url = reverse("public-alley-poster", kwargs={"code": code})
    html = text_of(client.get(url, HTTP_HOST="127.0.0.1:8011"))
    assert f"https://jxt.example.cn/a/{code}/" in html and "8011" not in html
    qr = client.get(reverse("alley-qr", kwargs={"code": code}), HTTP_HOST="127.0.0.1:8011")
    assert qr.content == qr_svg(f"https://jxt.example.cn/a/{code}/")


def test_a_forged_host_never_reaches_the_poster(client: Client, place: Place, settings: Any) -> None:
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    url = reverse("public-alley-poster", kwargs={"code": place.alley.code})
    assert client.get(url, HTTP_HOST="evil.example").status_code == 400


def test_an_alley_without_a_profile_or_team_still_has_a_page(client: Client, place: Place) -> None:
    code = place.world.alley_y.code
    html = text_of(client.get(reverse("public-alley", kwargs={"code": code})))
    assert "井亭巷" in html and "待公布" in html
    assert client.get(reverse("alley-short", kwargs={"code": code})).status_code == 200


def test_unknown_alleys_get_a_friendly_404(client: Client, place: Place) -> None:
    for name in ("public-alley", "public-alley-poster"):
        response = client.get(reverse(name, kwargs={"code": "350502001001999"}))
        assert response.status_code == 404 and "没有找到这个街巷" in text_of(response)


def test_the_home_page_leads_to_report_track_board_and_alley(client: Client, place: Place) -> None:
    html = text_of(client.get("/"))
    for url in ("/report/", "/track/", "/board/", "/alley/"):
        assert f'href="{url}"' in html
    assert 'action="/track/"' in html and "黄灯" in html and "橘灯：处理完结，等待回访" in html


def test_the_finder_goes_street_community_alley_without_javascript(client: Client, place: Place) -> None:
    world = place.world
    html = text_of(client.get("/report/"))
    assert "鲤城区" in html and f'href="?street={world.street.code}"' in html
    html = text_of(client.get("/report/", {"street": world.street.code}))
    assert f'href="?community={world.community_x.code}"' in html and "西街社区" in html
    html = text_of(client.get("/report/", {"community": world.community_x.code}))
    assert f'href="/a/{world.alley_x.code}/"' in html and "金鱼巷" in html and "井亭巷" not in html
    html = text_of(client.get("/report/", {"q": "金鱼"}))
    assert f'href="/a/{world.alley_x.code}/"' in html and "新华社区" in html
    html = text_of(client.get("/alley/", {"q": "金鱼"}))
    assert f'href="/alley/{world.alley_x.code}/"' in html
    html = text_of(client.get("/report/", {"q": "不存在的巷"}))
    assert "没有找到，请换个字再找" in html
    # A wrong or mismatched code falls back to the first step.
    html = text_of(client.get("/report/", {"street": world.community_x.code}))
    assert "选择街道" in html
