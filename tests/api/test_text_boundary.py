"""The text boundary at the API and Open311 (issue 14, findings 1 and 2).

A NUL anywhere in what a client sends is a 400 in that face's error shape with nothing saved (it
was a 500 on PostgreSQL); the other characters XML 1.0 forbids are removed on the way in; and
every Open311 XML document parses whatever the rows already hold.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from xml.dom import minidom
from xml.etree import ElementTree as ET

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from alleys.choices import AreaLevel
from evaluation.models import DepartmentEvaluation
from issues.choices import CaseState
from issues.models import ApiClient, Case, CaseEvent
from tests.factories import make_case

from .test_evaluation import completed_order, evaluation_input

pytestmark = pytest.mark.django_db

Api = Callable[[str], APIClient]
CASES = "/api/v1/cases/"
EVALUATIONS = "/api/v1/evaluations/"
O311 = "/open311/v2/"
NUL_WORDS = "空字符"


def every_forbidden() -> str:
    """Every character XML 1.0 forbids that this database can store (PostgreSQL refuses NUL)."""
    first = 1 if connection.vendor == "postgresql" else 0
    return "".join(chr(c) for c in range(first, 0x20) if chr(c) not in "\t\n\r") + "\ufffe\uffff"


@pytest.fixture
def key(world: Any) -> str:
    client = ApiClient(name="FixMyAlley", area=world.district)
    raw = client.set_new_key()
    client.save()
    return raw


def open311_post(world: Any, key: str, **extra: str) -> dict[str, str]:
    return {
        "api_key": key,
        "service_code": world.cat_a.code,
        "address_id": world.alley_x.code,
        "description": "巷口路灯不亮",
        "first_name": "小明",
        "last_name": "王",
        "address_string": "金鱼巷 3 号",
        "phone": "13800001111",
        **extra,
    }


def assert_open311_nul_error(response: Any, fmt: str) -> None:
    assert response.status_code == 400, response.content[:300]
    if fmt == "json":
        [error] = json.loads(response.content)
    else:
        [element] = ET.fromstring(response.content)  # noqa: S314 -- our own response
        error = {child.tag: child.text for child in element}
    assert str(error["code"]) == "400"
    assert NUL_WORDS in error["description"]


# --- NUL in: Open311 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["description", "first_name", "last_name", "address_string", "phone", "service_code", "address_id"],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_post_with_nul_is_the_specs_400(world: Any, key: str, field: str, fmt: str) -> None:
    data = open311_post(world, key)
    data[field] += "\x00"
    response = Client().post(f"{O311}requests.{fmt}", data)
    assert_open311_nul_error(response, fmt)
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "path",
    ["requests.json?service_code=A01%00", "requests.json?service_request_id=1%00", "tokens/AB%00.json"],
)
def test_open311_reads_with_nul_are_the_specs_400(world: Any, path: str) -> None:
    assert_open311_nul_error(Client().get(f"{O311}{path}"), "json")


def test_open311_post_keeps_the_text_without_control_characters(world: Any, key: str) -> None:
    data = open311_post(world, key, description="路灯\x0b不亮\x0c", address_string="金鱼巷\x01 3 号")
    response = Client().post(f"{O311}requests.json", data)
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert (case.description, case.address_detail) == ("路灯不亮", "金鱼巷 3 号")


# --- NUL in: the REST API ----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["category", "alley", "description", "reporter_name", "address_detail"])
@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_case_create_with_nul_is_400_and_saves_nothing(world: Any, api_as: Api, field: str, fmt: str) -> None:
    data = {"category": world.cat_a.code, "alley": world.alley_x.code, "description": "井盖松动"}
    data[field] = data.get(field, "") + "\x00"
    response = api_as("chief_x").post(CASES, data, format=fmt)
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert NUL_WORDS in error["fields"][field][0]
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_a_nul_in_a_json_key_or_nested_value_is_400(world: Any, api_as: Api) -> None:
    data = {"category": world.cat_a.code, "alley": world.alley_x.code, "description": "x", "photos": ["\x00"]}
    response = api_as("chief_x").post(CASES, data, format="json")
    assert response.status_code == 400
    assert "photos.0" in response.json()["error"]["fields"]
    response = api_as("chief_x").post(CASES, {"a\x00": 1}, format="json")
    assert response.status_code == 400
    assert not Case.objects.exists()


@pytest.mark.parametrize("query", ["category=A01%00", "alley=1%00", "ordering=id%00", "state=x%00"])
def test_api_query_parameters_with_nul_are_400(world: Any, api_as: Api, query: str) -> None:
    response = api_as("chief_x").get(f"{CASES}?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_api_create_keeps_the_text_without_control_characters(world: Any, api_as: Api) -> None:
    data = {"category": world.cat_a.code, "alley": world.alley_x.code, "description": "路灯\x0b不亮"}
    response = api_as("chief_x").post(CASES, data, format="json")
    assert response.status_code == 201, response.content
    assert Case.objects.get().description == "路灯不亮"


@pytest.mark.parametrize("field", ["opinion", "order", "plan_quality"])
def test_evaluation_with_nul_is_400_and_saves_nothing(world: Any, api_as: Api, field: str) -> None:
    order = completed_order(world)
    data = evaluation_input(order)
    data[field] = f"{data[field]}\x00"
    response = api_as("community_worker_x").post(EVALUATIONS, data, format="json")
    assert response.status_code == 400, response.content[:300]
    assert NUL_WORDS in response.json()["error"]["fields"][field][0]
    assert not DepartmentEvaluation.objects.exists()


# --- out: every Open311 XML document parses, whatever is stored -----------------------------------------


def test_every_open311_xml_document_parses_after_storing_every_control_character(
    world: Any, key: str
) -> None:
    bad = every_forbidden()
    world.cat_a.name = f"路灯{bad}不亮"
    world.cat_a.description = f"说明{bad}"
    world.cat_a.save()
    described = make_case(world, description=f"路灯{bad}不亮")
    rejected = make_case(world, tier=AreaLevel.ALLEY, description=f"垃圾{bad}")
    Case.objects.filter(pk=rejected.pk).update(
        state=CaseState.REJECTED, rejection_reason=f"不予受理{bad}理由"
    )
    paths = [
        "discovery.xml",
        "services.xml",
        f"services/{world.cat_a.code}.xml",
        "requests.xml?start_date=2026-01-01T00:00:00%2B08:00",
        f"requests.xml?service_request_id={described.pk},{rejected.pk}",
        f"requests/{described.pk}.xml",
        f"requests/{rejected.pk}.xml",
        f"tokens/{described.tracking_code}.xml",
    ]
    for params in ({}, {"api_key": key}):
        for path in paths:
            response = Client().get(f"{O311}{path}", params)
            assert response.status_code == 200, (path, response.content[:300])
            document = minidom.parseString(response.content)  # noqa: S318 -- our own response
            assert document.documentElement is not None
            ET.fromstring(response.content)  # noqa: S314 -- our own response
    body = Client().get(f"{O311}requests/{rejected.pk}.xml").content.decode()
    assert "不予受理理由" in body and "路灯不亮" in body
    trusted = Client().get(f"{O311}requests/{described.pk}.json", {"api_key": key}).json()
    assert trusted[0]["description"].startswith("路灯")


def test_open311_json_carries_no_control_characters(world: Any, key: str) -> None:
    case = make_case(world, description=f"路灯{every_forbidden()}不亮")
    [body] = Client().get(f"{O311}requests/{case.pk}.json", {"api_key": key}).json()
    assert body["description"] == "路灯不亮"


def test_the_nul_message_is_english_on_request(world: Any, api_as: Api) -> None:
    data = {"category": world.cat_a.code, "alley": world.alley_x.code, "description": "x\x00"}
    response = api_as("chief_x").post(CASES, data, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert "null character" in response.json()["error"]["fields"]["description"][0]
