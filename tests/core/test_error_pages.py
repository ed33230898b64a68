"""The error pages in Chinese with the reason and a way back, with DEBUG off (issue 14).

Each page is asserted as a visitor sees it: the status, the Chinese title and reason, the
link home (the staff workbench or the residents' home page) and the look it wears.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from tests.factories import World

pytestmark = pytest.mark.django_db

STAFF_LOOK = "css/staff"
PUBLIC_LOOK = "public/public"


@pytest.fixture(autouse=True)
def _debug_off(settings: Settings) -> None:
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.core.error_urls"


def page(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


def test_403_keeps_the_dashboards_reason(login: Callable[[str], Client], world: World) -> None:
    response = login("district_officer").get(
        reverse("dashboard:overview") + f"?area={world.other_district.code}"
    )
    assert response.status_code == 403
    html = page(response)
    assert "没有权限" in html
    assert "该区域不在您的辖区内" in html
    assert reverse("staff:home") in html and "返回工作台" in html
    assert STAFF_LOOK in html


def test_403_keeps_a_views_reason_and_offers_the_way_back(login: Callable[[str], Client]) -> None:
    response = login("chief_x").get("/staff/_test/denied/", HTTP_REFERER="http://testserver/staff/cases/")
    assert response.status_code == 403
    html = page(response)
    assert "该街巷的巡查记录只有巷长可以查看。" in html
    assert 'href="http://testserver/staff/cases/"' in html and "返回上一页" in html


def test_back_never_links_to_another_site(login: Callable[[str], Client]) -> None:
    response = login("chief_x").get("/staff/_test/denied/", HTTP_REFERER="https://evil.example/phish")
    assert "evil.example" not in page(response)


def test_404_for_residents_and_staff(client: Client, login: Callable[[str], Client]) -> None:
    resident = client.get("/no-such-page/")
    assert resident.status_code == 404
    html = page(resident)
    assert "页面不存在" in html and "链接可能抄错了" in html
    assert PUBLIC_LOOK in html and "回到首页" in html
    staff = login("chief_x").get("/staff/cases/999999/")
    assert staff.status_code == 404
    html = page(staff)
    assert "页面不存在" in html and STAFF_LOOK in html
    assert "matches the given query" not in html  # get_object_or_404's English is for developers


def test_400_in_chinese_without_the_internal_message(client: Client) -> None:
    response = client.get("/_test/suspicious/")
    assert response.status_code == 400
    html = page(response)
    assert "请求有误" in html and "etc/passwd" not in html
    assert PUBLIC_LOOK in html
    bad_host = client.get("/", HTTP_HOST="evil.example")
    assert bad_host.status_code == 400 and "请求有误" in page(bad_host)


def test_429_for_django_ratelimits_refusal(client: Client) -> None:
    response = client.get("/_test/limited/")
    assert response.status_code == 429
    assert "操作太频繁了" in page(response)


def test_500_in_chinese_for_residents_and_staff(world: World) -> None:
    client = Client(raise_request_exception=False)
    resident = client.get("/_test/broken/")
    assert resident.status_code == 500
    html = page(resident)
    assert "系统出错了" in html and "10.0.0.5" not in html
    assert PUBLIC_LOOK in html and 'href="/"' in html
    staff = client.get("/staff/_test/broken/")
    assert STAFF_LOOK in page(staff) and 'href="/staff/"' in page(staff)


def test_csrf_failure_says_what_to_do(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("public-report"), {"description": "路灯不亮"})
    assert response.status_code == 403
    html = page(response)
    assert "无法提交表单" in html
    assert "Cookie" in html and "刷新页面后重新提交" in html
    assert "CSRF" not in html.upper().replace("CSRFMIDDLEWARETOKEN", "")
    client.cookies["csrftoken"] = "a" * 32  # now the cookie is there, the form's token is not
    expired = client.post(reverse("public-report"), {"description": "路灯不亮"})
    assert expired.status_code == 403 and "页面已过期" in page(expired)


def test_error_pages_in_english_for_english_visitors(client: Client) -> None:
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert "Page not found" in page(response)


def test_api_errors_answer_the_apis_json_shape(client: Client) -> None:
    # A URL no route of the API matches (an id with a dot) is the API's 404, as its schema says.
    response = client.get("/api/v1/cases/1.5/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
    broken = Client(raise_request_exception=False).get("/api/_test/broken/")
    assert broken.status_code == 500 and broken["Content-Type"] == "application/json"
    assert broken.json()["error"]["code"] == "error" and "10.0.0.5" not in broken.content.decode()
    suspicious = client.get("/api/_test/suspicious/")
    assert suspicious.status_code == 400 and suspicious.json()["error"]["code"] == "parse_error"
    assert "etc/passwd" not in suspicious.content.decode()
