"""Reads that may lag go to the replica (Django's TEST MIRROR of the primary here); nothing else does."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from pytest_django import Settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.replica import REPLICA, ReplicaRouter, reads_may_lag, replica_reads
from issues.models import Case
from tests.factories import World, make_case


@pytest.mark.parametrize(
    ("method", "path", "lags"),
    [
        ("GET", "/dashboard/", True),
        ("HEAD", "/dashboard/wall/", True),
        ("POST", "/dashboard/", False),
        ("GET", "/board/", True),
        ("GET", "/api/v1/cases/", True),
        ("GET", "/api/v1/cases/1/", False),
        ("POST", "/api/v1/cases/", False),
        ("GET", "/staff/cases/", False),
        ("GET", "/staff/cases/export.csv", True),
        ("GET", "/track/ABCDEFGH/", False),
        ("GET", "/report/", False),
    ],
)
def test_the_pages_that_may_read_from_the_replica(method: str, path: str, lags: bool) -> None:
    assert reads_may_lag(method, path, resolve(path)) is lags


def test_the_router_reads_from_the_replica_only_inside_a_marked_block(settings: Settings) -> None:
    router = ReplicaRouter()
    settings.JXT_REPLICA_READS = True
    assert router.db_for_read(Case) is None
    with replica_reads():
        assert router.db_for_read(Case) == REPLICA
        assert router.db_for_write(Case) == "default"
    assert router.db_for_read(Case) is None
    settings.JXT_REPLICA_READS = False  # no replica configured: the router stays idle
    with replica_reads():
        assert router.db_for_read(Case) is None
    assert router.allow_migrate(REPLICA, "issues") is False
    assert router.allow_migrate("default", "issues") is True


BOTH = ["default", REPLICA]


def queries_on(alias: str, call: Callable[[], object]) -> int:
    with CaptureQueriesContext(connections[alias]) as captured:
        call()
    return len(captured)


@pytest.fixture
def replica_on(settings: Settings) -> None:
    settings.JXT_REPLICA_READS = True


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_dashboards_and_the_board_read_from_the_replica(replica_on: None, world: World) -> None:
    make_case(world)
    client = Client()
    client.force_login(world.district_officer)
    responses: list[int] = []
    assert queries_on(REPLICA, lambda: responses.append(client.get("/dashboard/").status_code)) > 0
    assert queries_on(REPLICA, lambda: responses.append(client.get("/board/").status_code)) > 0
    assert responses == [200, 200]


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_api_lists_read_from_the_replica_details_and_writes_from_the_primary(
    replica_on: None, world: World
) -> None:
    case = make_case(world)
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=world.chief_x)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    listed: list[object] = []
    assert queries_on(REPLICA, lambda: listed.append(client.get("/api/v1/cases/").json())) > 0
    assert [row["id"] for row in listed[0]["results"]] == [case.pk]  # type: ignore[index]
    detail: list[int] = []
    assert (
        queries_on(REPLICA, lambda: detail.append(client.get(f"/api/v1/cases/{case.pk}/").status_code)) == 0
    )
    assert detail == [200]


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_without_a_replica_nothing_is_routed(world: World, settings: Settings) -> None:
    settings.JXT_REPLICA_READS = False
    client = Client()
    client.force_login(world.district_officer)
    assert queries_on(REPLICA, lambda: client.get("/dashboard/")) == 0


@pytest.mark.postgres  # a replica is a PostgreSQL server; SQLite's in-memory test mirror cannot be cut
@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_an_unreachable_replica_is_skipped_and_the_primary_answers(
    replica_on: None, world: World, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client()
    client.force_login(world.district_officer)
    replica = connections[REPLICA]
    saved = replica.settings_dict.copy()
    replica.close()
    replica.settings_dict.update(
        {"HOST": "127.0.0.1", "PORT": "1"}  # nothing listens there
    )
    try:
        assert client.get("/dashboard/").status_code == 200
    finally:
        replica.close()
        replica.settings_dict.clear()
        replica.settings_dict.update(saved)
    assert "replica unreachable" in caplog.text
