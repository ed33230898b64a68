"""issues/api/authentication.py: session, staff tokens (Token/Bearer), integration keys (Api-Key)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from issues.models import ApiClient
from tests.factories import UserFactory, grant, make_case

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


def token_for(user: Any) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def test_anonymous_is_told_how_to_authenticate(world: Any) -> None:
    response = APIClient().get(ME)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("keyword", ["Token", "Bearer", "token", "bearer"])
def test_staff_token_with_either_keyword(world: Any, keyword: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {token_for(world.chief_x)}")
    response = client.get(ME)
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "chief_x"
    assert body["client"] is None
    assert [r["role"] for r in body["roles"]] == ["chief"]
    assert body["roles"][0]["area"] == world.alley_x.code


@pytest.mark.parametrize(
    "header",
    ["Token nonsense", "Bearer", "Token a b", "Api-Key nonsense-but-long-enough", "Api-Key"],
)
def test_bad_credentials_are_401(world: Any, header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_unknown_scheme_is_anonymous(world: Any) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic Zm9vOmJhcg==")
    assert client.get(ME).status_code == 401


def test_session_login_works(world: Any) -> None:
    client = APIClient()
    client.force_login(world.street_worker)
    assert client.get(ME).json()["username"] == "street_worker"


def test_inactive_user_token_is_refused(world: Any) -> None:
    key = token_for(world.chief_x)
    world.chief_x.is_active = False
    world.chief_x.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(ME).status_code == 401


def make_client(world: Any, **fields: Any) -> tuple[ApiClient, str]:
    client = ApiClient(
        name=fields.pop("name", "12345热线"), area=fields.pop("area", world.district), **fields
    )
    raw = client.set_new_key()
    client.save()
    return client, raw


def test_api_key_acts_as_the_service_user_and_its_scope(world: Any) -> None:
    service_user = UserFactory(username="hotline-bot")
    from alleys.choices import Role

    grant(service_user, Role.COMMUNITY_STAFF, area=world.community_x)
    api_client, raw = make_client(world, service_user=service_user)
    mine = make_case(world, alley=world.alley_x)
    other = make_case(world, alley=world.alley_y)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    me = client.get(ME).json()
    assert me["username"] == "hotline-bot"
    assert me["client"] == "12345热线"
    ids = [c["id"] for c in client.get("/api/v1/cases/").json()["results"]]
    assert ids == [mine.pk]
    assert client.get(f"/api/v1/cases/{other.pk}/").status_code == 404
    api_client.refresh_from_db()
    assert api_client.last_used_at is not None


def test_api_key_touches_last_used_at_most_every_few_minutes(world: Any) -> None:
    from issues.api.authentication import touch_client

    api_client, _raw = make_client(world)
    now = timezone.now()
    touch_client(api_client, now=now)
    touch_client(api_client, now=now + dt.timedelta(minutes=1))
    api_client.refresh_from_db()
    assert api_client.last_used_at == now
    touch_client(api_client, now=now + dt.timedelta(minutes=10))
    api_client.refresh_from_db()
    assert api_client.last_used_at == now + dt.timedelta(minutes=10)


def test_api_key_without_service_user_cannot_use_rest(world: Any) -> None:
    _api_client, raw = make_client(world)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    response = client.get(ME)
    assert response.status_code == 401
    assert "服务账号" in response.json()["error"]["message"]


def test_inactive_api_client_is_refused(world: Any) -> None:
    service_user = UserFactory(username="bot2")
    _api_client, raw = make_client(world, service_user=service_user, is_active=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert client.get(ME).status_code == 401


def test_token_endpoint_exchanges_password_for_token(world: Any) -> None:
    user = world.chief_x
    user.set_password("s3cret-pass")
    user.save()
    response = APIClient().post("/api/v1/auth/token/", {"username": "chief_x", "password": "s3cret-pass"})
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=user).key
    wrong = APIClient().post("/api/v1/auth/token/", {"username": "chief_x", "password": "nope"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "invalid"


def test_token_endpoint_is_throttled(world: Any, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 100  # the throttle alone (the login lockout has its own tests)
    client = APIClient()
    codes = [
        client.post("/api/v1/auth/token/", {"username": "x", "password": "y"}).status_code for _ in range(12)
    ]
    assert codes[:10] == [400] * 10
    assert codes[-1] == 429


def test_a_read_only_client_may_not_write(world: Any) -> None:
    from alleys.choices import Role

    bot = grant(UserFactory(username="reader-bot"), Role.CHIEF, area=world.alley_x)
    _api_client, raw = make_client(world, service_user=bot, can_write=False)
    case = make_case(world)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    response = client.post(f"/api/v1/cases/{case.pk}/accept/", {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    case.refresh_from_db()
    assert case.state == "submitted"


def test_a_new_forwarded_header_per_attempt_does_not_reset_the_token_throttle(
    world: Any, settings: Any
) -> None:
    """Issue 14: DRF's get_ident believed X-Forwarded-For, so each made-up address had its own budget."""
    settings.AXES_FAILURE_LIMIT = 100  # the throttle alone
    settings.JXT_TRUSTED_PROXIES = ""
    client = APIClient()
    codes = [
        client.post(
            "/api/v1/auth/token/", {"username": "x", "password": "y"}, HTTP_X_FORWARDED_FOR=f"6.6.{i}.1"
        ).status_code
        for i in range(12)
    ]
    assert codes[:10] == [400] * 10
    assert codes[-1] == 429


def test_behind_one_trusted_proxy_the_token_throttle_counts_the_right_most_entry(
    world: Any, settings: Any
) -> None:
    settings.AXES_FAILURE_LIMIT = 100
    settings.JXT_TRUSTED_PROXIES = "1"
    client = APIClient()

    def attempt(forwarded: str) -> int:
        return client.post(
            "/api/v1/auth/token/",
            {"username": "x", "password": "y"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=forwarded,
        ).status_code

    # One client behind the proxy, writing a new left-most entry each time: still one budget.
    codes = [attempt(f"6.6.{i}.1, 198.51.100.7") for i in range(11)]
    assert codes[:10] == [400] * 10 and codes[-1] == 429
    # Another resident behind the same proxy is another client.
    assert attempt("198.51.100.8") == 400
