"""Staff sessions end after 30 idle minutes and 12 hours after the login (settings; core/sessions.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from freezegun import freeze_time
from pytest_django import Settings

from tests.factories import World

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def signed_in(world: World) -> Client:
    client = Client()
    client.force_login(world.chief_x)
    return client


def test_the_defaults_are_thirty_idle_minutes_and_twelve_hours(settings: Settings) -> None:
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.JXT_SESSION_MAX_AGE == 12 * 3600


def test_a_session_ends_after_thirty_idle_minutes(world: World) -> None:
    with freeze_time(START) as clock:
        client = signed_in(world)
        assert client.get("/staff/").status_code == 200
        clock.tick(dt.timedelta(minutes=29))
        assert client.get("/staff/").status_code == 200  # each request starts the half hour again
        clock.tick(dt.timedelta(minutes=29))
        assert client.get("/staff/").status_code == 200
        clock.tick(dt.timedelta(minutes=31))
        response = client.get("/staff/")
        assert response.status_code == 302 and response["Location"].startswith("/staff/login/")


def test_a_busy_session_still_ends_twelve_hours_after_the_login(world: World) -> None:
    with freeze_time(START) as clock:
        client = signed_in(world)
        for _ in range(35):  # a request every twenty minutes: 11 h 40 min
            clock.tick(dt.timedelta(minutes=20))
            assert client.get("/staff/").status_code == 200
        clock.tick(dt.timedelta(minutes=21))
        response = client.get("/staff/")
        assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
        follow = client.get(response["Location"])
        assert "请重新登录" in follow.content.decode()
        # Signing in again starts a new twelve hours.
        client.force_login(world.chief_x)
        clock.tick(dt.timedelta(minutes=20))
        assert client.get("/staff/").status_code == 200


def test_both_limits_are_settings(world: World, settings: Settings) -> None:
    settings.SESSION_COOKIE_AGE = 3600
    settings.JXT_SESSION_MAX_AGE = 2 * 3600
    with freeze_time(START) as clock:
        client = signed_in(world)
        clock.tick(dt.timedelta(minutes=50))
        assert client.get("/staff/").status_code == 200
        clock.tick(dt.timedelta(minutes=50))
        assert client.get("/staff/").status_code == 200
        clock.tick(dt.timedelta(minutes=21))
        assert client.get("/staff/").status_code == 302


@pytest.mark.django_db
def test_residents_get_no_session_row(client: Client) -> None:
    from django.contrib.sessions.models import Session

    client.get("/")
    assert Session.objects.count() == 0


def test_the_idle_limit_is_renewed_at_most_once_a_minute(world: World) -> None:
    """Renewing the expiry is a write; busy pages do not pay it on every request."""
    from django.contrib.sessions.models import Session

    with freeze_time(START) as clock:
        client = signed_in(world)
        client.get("/staff/")
        expiry = Session.objects.get().expire_date
        clock.tick(dt.timedelta(seconds=30))
        client.get("/staff/")
        assert Session.objects.get().expire_date == expiry  # not written again
        clock.tick(dt.timedelta(seconds=31))
        client.get("/staff/")
        assert Session.objects.get().expire_date == expiry + dt.timedelta(seconds=61)
