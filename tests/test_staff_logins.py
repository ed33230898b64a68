"""Staff logins (issue 14): lockout per account and per address, logged for superusers; long passwords;
the staff pages' own Chinese login page."""

from __future__ import annotations

from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from pytest_django import Settings
from rest_framework.test import APIClient

from tests.factories import UserFactory, World

PASSWORD = "right-horse-battery-9"
LOCKED = "登录失败次数过多"
pytestmark = pytest.mark.django_db


@pytest.fixture
def limited(settings: Settings) -> Settings:
    settings.AXES_FAILURE_LIMIT = 5
    settings.JXT_TRUSTED_PROXIES = ""
    return settings


def staff(username: str) -> Any:
    user = UserFactory(username=username)
    user.set_password(PASSWORD)
    user.save()
    return user


def admin_login(username: str, password: str, address: str) -> Any:
    return Client().post("/admin/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def staff_login(username: str, password: str, address: str) -> Any:
    return Client().post("/staff/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def token(username: str, password: str, address: str) -> Any:
    return APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


@pytest.mark.parametrize("login", [admin_login, staff_login], ids=["admin", "staff-page"])
def test_repeated_failures_lock_the_account_and_the_address(limited: Settings, login: Any) -> None:
    staff("chief_a")
    staff("chief_b")
    codes = [login("chief_a", "wrong-password", "10.0.0.1").status_code for _ in range(5)]
    assert codes == [200] * 4 + [429]  # the form again, then the lockout page at the fifth failure
    refused = login("chief_a", PASSWORD, "10.0.0.1")
    assert refused.status_code == 429 and LOCKED in refused.content.decode()
    assert "_auth_user_id" not in refused.client.session
    # The account is locked wherever the right password comes from ...
    assert login("chief_a", PASSWORD, "10.0.0.2").status_code == 429
    # ... and the address is locked for every account.
    assert login("chief_b", PASSWORD, "10.0.0.1").status_code == 429
    # Another account from another address is not affected.
    assert login("chief_b", PASSWORD, "10.0.0.3").status_code == 302


def test_the_token_endpoint_locks_too_and_answers_in_the_api_error_shape(limited: Settings) -> None:
    staff("chief_a")
    staff("chief_b")
    codes = [token("chief_a", "wrong-password", "10.0.0.1").status_code for _ in range(5)]
    assert codes == [400] * 4 + [429]
    refused = token("chief_a", PASSWORD, "10.0.0.1")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "locked_out"
    assert LOCKED in refused.json()["error"]["message"]
    assert "token" not in refused.json()
    assert token("chief_a", PASSWORD, "10.0.0.2").status_code == 429
    assert token("chief_b", PASSWORD, "10.0.0.1").status_code == 429
    assert token("chief_b", PASSWORD, "10.0.0.3").status_code == 200


def test_failures_below_the_limit_are_forgotten_after_a_success(limited: Settings) -> None:
    staff("chief_a")
    for _ in range(4):
        staff_login("chief_a", "wrong-password", "10.0.0.1")
    assert staff_login("chief_a", PASSWORD, "10.0.0.1").status_code == 302
    for _ in range(4):
        staff_login("chief_a", "wrong-password", "10.0.0.1")
    assert staff_login("chief_a", PASSWORD, "10.0.0.1").status_code == 302


def test_a_made_up_forwarded_header_does_not_escape_the_address_lock(limited: Settings) -> None:
    staff("chief_a")
    for i in range(5):
        Client().post(
            "/staff/login/",
            {"username": f"guess{i}", "password": "wrong-password"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"6.6.{i}.1",
        )
    response = Client().post(
        "/staff/login/",
        {"username": "chief_a", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="6.6.99.1",
    )
    assert response.status_code == 429


def test_attempts_are_logged_and_shown_to_superusers_only(limited: Settings) -> None:
    staff("chief_a")
    for _ in range(2):
        staff_login("chief_a", "wrong-password", "10.0.0.1")
    token("chief_a", "wrong-password", "10.0.0.4")
    assert AccessAttempt.objects.filter(username="chief_a").exists()
    assert AccessFailureLog.objects.filter(username="chief_a").count() == 3
    superuser = UserFactory(username="root", superuser=True)
    admin = Client()
    admin.force_login(superuser)
    page = admin.get("/admin/axes/accessfailurelog/")
    assert (
        page.status_code == 200 and "chief_a" in page.content.decode() and "10.0.0.4" in page.content.decode()
    )
    assert admin.get("/admin/axes/accessattempt/").status_code == 200
    clerk = Client()
    clerk.force_login(UserFactory(username="clerk"))  # staff, no permissions
    assert clerk.get("/admin/axes/accessfailurelog/").status_code == 403


def test_staff_passwords_need_twelve_characters() -> None:
    user = UserFactory.build(username="chief_a")
    with pytest.raises(ValidationError) as caught:
        validate_password("Qx7!mzpa_41", user)  # 11 characters
    assert [e.code for e in caught.value.error_list] == ["password_too_short"]
    validate_password("Qx7!mzpa_41k", user)  # 12


def test_the_admin_refuses_a_short_password_when_setting_one() -> None:
    superuser = UserFactory(username="root", superuser=True)
    target = UserFactory(username="chief_a")
    admin = Client()
    admin.force_login(superuser)
    url = f"/admin/auth/user/{target.pk}/password/"
    response = admin.post(url, {"password1": "Qx7!mzpa", "password2": "Qx7!mzpa"})
    assert response.status_code == 200 and "12" in response.content.decode()


def test_staff_pages_send_anonymous_people_to_a_chinese_login_page(world: World) -> None:
    response = Client().get("/staff/")
    assert response.status_code == 302 and response["Location"] == "/staff/login/?next=/staff/"
    html = Client().get(response["Location"]).content.decode()
    assert '<html lang="zh-hans"' in html.lower()
    assert "工作人员登录" in html and 'name="next" value="/staff/"' in html
    assert 'href="/staff/cases/"' not in html  # no staff navigation before signing in


def test_signing_in_on_the_staff_page_lands_on_the_to_do_list(world: World, limited: Settings) -> None:
    world.chief_x.set_password(PASSWORD)
    world.chief_x.save()
    client = Client()
    response = client.post("/staff/login/", {"username": "chief_x", "password": PASSWORD, "next": "/staff/"})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    assert client.post("/staff/logout/").status_code == 302
    assert client.get("/staff/").status_code == 302


def test_the_admin_shows_the_same_page_and_still_wants_a_staff_account(limited: Settings) -> None:
    html = Client().get("/admin/login/?next=/admin/").content.decode()
    assert "工作人员登录" in html and 'name="next" value="/admin/"' in html
    plain = staff("plain")
    plain.is_staff = False
    plain.save()
    client = Client()
    refused = client.post("/admin/login/?next=/admin/", {"username": "plain", "password": PASSWORD})
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    assert "工作人员登录" in refused.content.decode()
    # The staff pages' login lets the same account in (its pages scope what it sees).
    assert staff_login("plain", PASSWORD, "10.0.0.9").status_code == 302
