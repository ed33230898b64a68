"""issues/open311: GeoReport v2 in both formats against the specification's field lists and error format."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time
from PIL import Image

from alleys.choices import AreaLevel, Role
from dispatch.models import CategoryType
from issues.choices import CaseSource, CaseState, EventKind, PhotoState
from issues.models import ApiClient, Case, CaseEvent, CasePhoto
from issues.workflow import case_whistle
from tests.factories import MONDAY, make_case

pytestmark = pytest.mark.django_db

BASE = "/open311/v2/"
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
ATTRIBUTE_FIELDS = {
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
DISCOVERY_FIELDS = {"changeset", "contact", "key_service", "endpoints"}
ENDPOINT_FIELDS = {"specification", "url", "changeset", "type", "formats"}


def get(path: str, fmt: str, **params: Any) -> Any:
    return Client().get(f"{BASE}{path}.{fmt}", params)


def post(fmt: str, data: dict[str, Any]) -> Any:
    return Client().post(f"{BASE}requests.{fmt}", data)


def parse(response: Any, fmt: str) -> Any:
    """The body as Python data; XML is turned into the spec's JSON mapping (lists for plural roots)."""
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(response.content)
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return xml_to_data(ET.fromstring(response.content))  # noqa: S314 -- our own response


PLURALS = {"services", "service_requests", "attributes", "values", "endpoints", "formats", "errors"}


def xml_to_data(element: ET.Element) -> Any:
    if element.tag in PLURALS:
        return [xml_to_data(child) for child in element]
    if len(element) == 0:
        return element.text
    return {child.tag: xml_to_data(child) for child in element}


@pytest.fixture
def api_client(world: Any) -> tuple[ApiClient, str]:
    client = ApiClient(name="FixMyAlley", area=world.district)
    raw = client.set_new_key()
    client.save()
    return client, raw


def photo(case: Case, *, public: bool) -> CasePhoto:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="JPEG")
    return CasePhoto.objects.create(
        case=case,
        image=ContentFile(buffer.getvalue(), name="p.jpg"),
        is_public=public,
        state=PhotoState.READY,
    )


def valid_post(world: Any, key: str, **extra: Any) -> dict[str, Any]:
    return {
        "api_key": key,
        "jurisdiction_id": "quanzhou.gov.cn",
        "service_code": world.cat_a.code,
        "address_id": world.alley_x.code,
        "description": "巷口路灯不亮，晚上很黑。",
        **extra,
    }


# --- discovery and services --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery(world: Any, fmt: str) -> None:
    response = get("discovery", fmt)
    assert response.status_code == 200
    body = parse(response, fmt)
    assert set(body) == DISCOVERY_FIELDS
    [endpoint] = body["endpoints"]
    assert set(endpoint) == ENDPOINT_FIELDS
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]


W3C_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_every_datetime_is_a_w3c_datetime_with_its_offset(world: Any, fmt: str) -> None:
    """The spec's datetimes are W3C (ISO 8601 with a T and an offset): the discovery's changesets too."""
    body = parse(get("discovery", fmt), fmt)
    [endpoint] = body["endpoints"]
    for value in (body["changeset"], endpoint["changeset"]):
        assert W3C_DATETIME.match(value), value
        assert dt.datetime.fromisoformat(value).utcoffset() is not None
    make_case(world, now=timezone.now())
    [item] = parse(get("requests", fmt), fmt)
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C_DATETIME.match(item[name]), (name, item[name])


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("路灯 照明", "路灯,照明"),
        ("路灯、照明，夜间;灯杆；lamp,  light", "路灯,照明,夜间,灯杆,lamp,light"),
        (" 路灯\u3000照明 ", "路灯,照明"),
        ("", ""),
    ],
)
def test_service_keywords_are_comma_separated(world: Any, fmt: str, stored: str, shown: str) -> None:
    """Keywords are typed in the admin with spaces or Chinese punctuation; the spec wants "a,b,c"."""
    world.cat_a.keywords = stored
    world.cat_a.save()
    service = next(s for s in parse(get("services", fmt), fmt) if s["service_code"] == world.cat_a.code)
    assert (service["keywords"] or "") == shown


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_services_lists_active_category_types(world: Any, fmt: str) -> None:
    world.cat_d.is_active = False
    world.cat_d.save()
    response = get("services", fmt, jurisdiction_id="anything")
    assert response.status_code == 200
    services = parse(response, fmt)
    assert [s["service_code"] for s in services] == ["A01", "B01", "C01"]
    for service in services:
        assert set(service) == SERVICE_FIELDS
    first = services[0]
    assert first["service_name"] == "路灯不亮"
    assert first["group"] == world.cat_a.category_class.name
    assert first["type"] == "realtime"
    assert first["metadata"] in (True, "true")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition_has_an_urgency_list(world: Any, fmt: str) -> None:
    body = parse(get(f"services/{world.cat_a.code}", fmt), fmt)
    assert body["service_code"] == world.cat_a.code
    attributes = {a["code"]: a for a in body["attributes"]}
    for attribute in attributes.values():
        assert set(attribute) == ATTRIBUTE_FIELDS
    urgency = attributes["urgency"]
    assert urgency["datatype"] == "singlevaluelist"
    assert [v["key"] for v in urgency["values"]] == ["normal", "urgent"]
    assert attributes["alley"]["datatype"] == "string"
    assert str(urgency["order"]) == "1"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_is_a_404_error_array(world: Any, fmt: str) -> None:
    response = get("services/NOPE", fmt)
    assert response.status_code == 404
    [error] = parse(response, fmt)
    assert set(error) == {"code", "description"}
    assert str(error["code"]) == "404"
    assert "NOPE" in error["description"]


def test_unknown_format_is_a_404_in_xml(world: Any) -> None:
    response = Client().get(f"{BASE}services.csv")
    assert response.status_code == 404
    assert parse(response, "xml")[0]["code"] == "404"


def test_wrong_method_is_refused_in_the_error_format(world: Any) -> None:
    response = Client().put(f"{BASE}services.json")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert parse(response, "json")[0]["code"] == 405


# --- POST requests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_creates_a_case_through_the_state_machine(
    world: Any, api_client: tuple[ApiClient, str], fmt: str
) -> None:
    client, key = api_client
    response = post(
        fmt,
        valid_post(
            world,
            key,
            service_code=world.cat_b.code,
            first_name="三",
            last_name="张",
            phone="13912345678",
            email="zhang@example.org",
            lat="24.901234",
            long="118.591234",
            address_string="金鱼巷 12 号旁",
            media_url="https://img.example.org/1.jpg",
            **{"attribute[urgency]": "urgent"},
        ),
    )
    assert response.status_code == 201, response.content
    [answer] = parse(response, fmt)
    assert set(answer) == {"service_request_id", "token", "service_notice", "account_id"}
    assert answer["account_id"] is None
    # The request's public number; the tracking code (the resident's secret) only as its token.
    case = Case.objects.get(pk=int(answer["service_request_id"]))
    assert answer["token"] == case.tracking_code
    assert case.source == CaseSource.OPEN311
    assert case.state == CaseState.SUBMITTED
    # With the alley's team, as from any other source; urgent: its community is told at once.
    assert case.tier == AreaLevel.ALLEY
    assert case.holder_area == world.alley_x
    assert case.urgency == "urgent"
    assert case.events.get(kind="submitted").data["alert"] == [AreaLevel.COMMUNITY]
    assert (case.reporter_name, case.reporter_phone) == ("张三", "13912345678")
    assert case.address_detail == "金鱼巷 12 号旁"
    assert str(case.latitude) == "24.901234"
    assert case.accept_due is not None
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == [EventKind.SUBMITTED, EventKind.NOTE]
    note = case.events.get(kind=EventKind.NOTE)
    assert note.data["media_url"] == "https://img.example.org/1.jpg"
    assert note.data["api_client_id"] == client.pk
    assert note.public is False
    assert case.tracking_code in answer["service_notice"]
    client.refresh_from_db()
    assert client.last_used_at is not None


def test_the_clients_note_is_in_the_sites_language(world: Any, api_client: tuple[ApiClient, str]) -> None:
    """A client asking for English answers still leaves the staff's timeline in Chinese."""
    client, key = api_client
    data = valid_post(world, key, service_code=world.cat_b.code, media_url="https://img.example.org/1.jpg")
    response = Client().post(f"{BASE}requests.json", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=int(json.loads(response.content)[0]["service_request_id"]))
    note = case.events.get(kind=EventKind.NOTE).note
    assert note == f"经对接客户端“{client.name}”（Open311）提交。附件链接：https://img.example.org/1.jpg"


def test_post_writes_the_case_and_the_clients_note_in_one_transaction(
    world: Any, api_client: tuple[ApiClient, str]
) -> None:
    """The case, its two events, their notification's outbox row and the repeat key are written atomically.

    One outer atomic block (``case_submit_once``'s; the test runs inside pytest-django's
    transaction, so it shows as a SAVEPOINT) holds every INSERT: the case's, one of both
    events, the outbox row's and the Submission key's. The case's own block nests inside it.
    """
    _client, key = api_client
    with CaptureQueriesContext(connection) as queries:
        response = post("json", valid_post(world, key, service_code=world.cat_b.code))
    assert response.status_code == 201, response.content
    sqls = [q["sql"] for q in queries.captured_queries]
    [outer, *_nested] = [sql.split()[1] for sql in sqls if sql.upper().startswith("SAVEPOINT")]
    begin = next(i for i, sql in enumerate(sqls) if sql.upper().startswith("SAVEPOINT") and outer in sql)
    end = next(i for i, sql in enumerate(sqls) if sql.upper().startswith("RELEASE") and outer in sql)
    writes = [
        (i, sql) for i, sql in enumerate(sqls) if sql.upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    inside = [sql for i, sql in writes if begin < i < end]
    # Only the client's last-used stamp is written outside.
    assert [sql for i, sql in writes if not begin < i < end] == [
        sql for _, sql in writes if '"issues_apiclient"' in sql
    ]
    for table in ("issues_case", "issues_caseevent", "issues_notificationoutbox", "issues_submission"):
        assert sum(f'INTO "{table}"' in sql for sql in inside) == 1, table
    kinds = set(
        CaseEvent.objects.filter(case_id=parse(response, "json")[0]["service_request_id"]).values_list(
            "kind", "public"
        )
    )
    assert kinds == {(EventKind.SUBMITTED, True), (EventKind.NOTE, False)}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_identical_post_within_the_window_gets_the_first_answer(
    world: Any, api_client: tuple[ApiClient, str], fmt: str, settings: Any
) -> None:
    """A client that sends a request again (a timeout, a retry) gets the first answer, not a second case.

    The repeat is answered like the first (201, the same body) and marked ``Idempotent-Replayed``.
    """
    settings.JXT_OPEN311_REPEAT_SECONDS = 600
    _client, key = api_client
    data = valid_post(
        world, key, media_url="https://img.example.org/1.jpg", **{"attribute[urgency]": "urgent"}
    )
    with freeze_time(MONDAY) as clock:
        first = post(fmt, data)
        assert first.status_code == 201, first.content
        assert "Idempotent-Replayed" not in first
        clock.tick(dt.timedelta(minutes=9))
        again = post(fmt, dict(reversed(list(data.items()))))  # the same parameters in another order
        assert again.status_code == 201
        assert again["Idempotent-Replayed"] == "true"
        assert again.content == first.content
        assert Case.objects.count() == 1
        # Any other parameter is another request.
        other = post(fmt, {**data, "description": "巷尾路灯也不亮。"})
        assert other.status_code == 201 and "Idempotent-Replayed" not in other
        assert parse(other, fmt)[0]["service_request_id"] != parse(first, fmt)[0]["service_request_id"]
        assert Case.objects.count() == 2
        # Once the window has passed, the same request is a new one.
        clock.tick(dt.timedelta(minutes=2))
        later = post(fmt, data)
        assert later.status_code == 201 and "Idempotent-Replayed" not in later
        assert Case.objects.count() == 3


def test_the_same_request_from_another_client_is_its_own(
    world: Any, api_client: tuple[ApiClient, str]
) -> None:
    _client, key = api_client
    other = ApiClient(name="12345热线", area=world.district)
    other_key = other.set_new_key()
    other.save()
    post("json", valid_post(world, key))
    second = post("json", valid_post(world, other_key))
    assert second.status_code == 201 and "Idempotent-Replayed" not in second
    assert Case.objects.count() == 2
    # A refused request files no key: sent again once the problem is fixed, it is filed.
    world.cat_b.is_active = False
    world.cat_b.save()
    assert post("json", valid_post(world, key, service_code=world.cat_b.code)).status_code == 404
    world.cat_b.is_active = True
    world.cat_b.save()
    assert post("json", valid_post(world, key, service_code=world.cat_b.code)).status_code == 201
    assert Case.objects.count() == 3


def test_post_accepts_the_alley_as_an_attribute(world: Any, api_client: tuple[ApiClient, str]) -> None:
    _client, key = api_client
    data = valid_post(world, key, lat="24.9", long="118.5", **{"attribute[alley]": world.alley_y.code})
    del data["address_id"]
    response = post("json", data)
    assert response.status_code == 201
    assert Case.objects.get().alley == world.alley_y


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_with_only_an_address_finds_the_alley_it_names(
    world: Any, api_client: tuple[ApiClient, str], fmt: str
) -> None:
    _client, key = api_client
    data = valid_post(world, key, address_string="开元街道井亭巷 7 号门口", lat="24.9", long="118.5")
    del data["address_id"]
    response = post(fmt, data)
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert case.alley == world.alley_y
    assert case.address_detail == "开元街道井亭巷 7 号门口"
    [item] = parse(get(f"requests/{case.pk}", fmt), fmt)
    assert item["address_id"] == world.alley_y.code


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        # Alleys have no stored coordinates: a point alone cannot be placed.
        ({"lat": "24.9", "long": "118.5"}, "经纬度"),
        ({"address_string": "开元街道新华社区附近"}, "没有找到"),
        ({"address_string": "井亭巷 5 号"}, "社区"),
    ],
)
def test_post_that_cannot_be_placed_asks_for_the_alley_code(
    world: Any, api_client: tuple[ApiClient, str], extra: dict[str, str], words: str
) -> None:
    from tests.factories import AlleyFactory

    AlleyFactory(code="350502001001002", name="井亭巷", parent=world.community_x)  # 井亭巷 in two communities
    _client, key = api_client
    data = valid_post(world, key, **extra)
    del data["address_id"]
    response = post("json", data)
    assert response.status_code == 400
    [error] = errors_of(response, "json")
    assert error["description"].startswith("address_id required")
    assert "attribute[alley]" in error["description"] and words in error["description"]
    assert not Case.objects.exists()


def test_the_alley_attribute_says_when_it_is_needed(world: Any) -> None:
    body = parse(get(f"services/{world.cat_a.code}", "json"), "json")
    [alley] = [a for a in body["attributes"] if a["code"] == "alley"]
    assert alley["required"] is False
    assert "address_string" in alley["description"] and "经纬度" in alley["description"]


def errors_of(response: Any, fmt: str) -> list[dict[str, Any]]:
    body = parse(response, fmt)
    assert isinstance(body, list) and body
    for error in body:
        assert set(error) == {"code", "description"}
        assert str(error["code"]) == str(response.status_code)
    return body


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"api_key": None}, 403, "api_key"),
        ({"api_key": "wrong-key-wrong-key-wrong"}, 403, "api_key"),
        ({"service_code": None}, 400, "service_code"),
        ({"service_code": "NOPE"}, 404, "NOPE"),
        ({"address_id": None}, 400, "lat"),
        ({"address_id": None, "lat": "24.9", "long": "118.5"}, 400, "address_id required"),
        ({"address_id": None, "address_string": "开元街道新华社区附近"}, 400, "address_id required"),
        ({"address_id": None, "address_string": "东湖巷 3 号"}, 400, "address_id required"),
        ({"lat": "24.9"}, 400, "lat"),
        ({"lat": "north", "long": "118.5"}, 400, "lat"),
        ({"lat": "95", "long": "118.5"}, 400, "lat"),
        ({"address_id": "350503001001001"}, 400, "350503001001001"),
        ({"address_id": "350502001001"}, 400, "350502001001"),
        ({"attribute[urgency]": "asap"}, 400, "urgency"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"description": ""}, 400, "描述"),
        ({"description": "长" * 2001}, 400, "description"),
        ({"phone": "12345"}, 400, "电话号码格式不对"),
    ],
)
def test_post_errors_write_nothing(
    world: Any, api_client: tuple[ApiClient, str], fmt: str, change: dict[str, Any], status: int, words: str
) -> None:
    _client, key = api_client
    data = valid_post(world, key)
    for name, value in change.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    response = post(fmt, data)
    assert response.status_code == status, response.content
    [error] = errors_of(response, fmt)
    assert words in error["description"]
    assert not Case.objects.exists()
    assert not CaseEvent.objects.exists()


def test_post_by_a_read_only_client_is_403(world: Any, api_client: tuple[ApiClient, str]) -> None:
    client, key = api_client
    client.can_write = False
    client.save()
    response = post("xml", valid_post(world, key))
    assert response.status_code == 403
    assert not Case.objects.exists()


def test_post_by_an_inactive_client_is_403(world: Any, api_client: tuple[ApiClient, str]) -> None:
    client, key = api_client
    client.is_active = False
    client.save()
    assert post("json", valid_post(world, key)).status_code == 403


def test_post_sees_reference_data_change_at_once(world: Any, api_client: tuple[ApiClient, str]) -> None:
    """Category and alley come from the process's copy: changes and additions still count at once."""
    _client, key = api_client
    assert post("json", valid_post(world, key)).status_code == 201  # both read into the copy
    world.alley_x.is_active = False
    world.alley_x.save()
    response = post("json", valid_post(world, key))
    assert response.status_code == 400
    assert world.alley_x.code in errors_of(response, "json")[0]["description"]
    world.alley_x.is_active = True
    world.alley_x.save()
    world.cat_a.is_active = False
    world.cat_a.save()
    assert post("json", valid_post(world, key)).status_code == 404
    # A type added without a signal reaching this process (another process, a bulk insert).
    [added] = CategoryType.objects.bulk_create(
        [CategoryType(code="A99", name="新类型", category_class=world.cat_a.category_class)]
    )
    response = post("json", valid_post(world, key, service_code=added.code))
    assert response.status_code == 201, response.content
    assert Case.objects.filter(category=added).count() == 1


def test_post_needs_the_contact_when_the_category_does(world: Any, api_client: tuple[ApiClient, str]) -> None:
    _client, key = api_client
    world.cat_a.needs_contact = True
    world.cat_a.save()
    response = post("json", valid_post(world, key))
    assert response.status_code == 400
    assert "电话" in errors_of(response, "json")[0]["description"]
    assert post("json", valid_post(world, key, phone="13900000000")).status_code == 201


# --- GET requests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_requests_fields_and_no_personal_data(world: Any, fmt: str) -> None:
    case = make_case(world, now=timezone.now())
    Case.objects.filter(pk=case.pk).update(description="灯坏了，请打 13912345678 联系我")
    response = get("requests", fmt)
    assert response.status_code == 200
    [item] = parse(response, fmt)
    assert set(item) == REQUEST_FIELDS
    # Anonymous readers see the case's number, not its tracking code (which allows feedback),
    # and the type instead of the resident's own words.
    assert item["service_request_id"] == str(case.pk)
    assert item["description"] == world.cat_a.name
    assert item["status"] == "open"
    assert item["service_code"] == world.cat_a.code
    assert item["address_id"] == world.alley_x.code
    assert item["address"] == "泉州市 / 鲤城区 / 开元街道 / 新华社区 / 金鱼巷"
    assert item["agency_responsible"] == "金鱼巷街巷服务团队"
    assert item["expected_datetime"] == timezone.localtime(case.accept_due).isoformat(timespec="seconds")
    assert item["requested_datetime"].endswith("+08:00")
    text = response.content.decode()
    assert "张三" not in text and "13900001234" not in text and "13912345678" not in text
    # A client with a key for the area reads the description, mobile numbers masked; the request
    # is named by the same number (the tracking code lets its holder give feedback: never in a feed).
    client = ApiClient(name="12345热线", area=world.alley_x)
    key = client.set_new_key()
    client.save()
    response = get("requests", fmt, api_key=key)
    [trusted] = parse(response, fmt)
    assert trusted["service_request_id"] == str(case.pk)
    assert "139****5678" in trusted["description"] and "13912345678" not in trusted["description"]
    assert case.tracking_code not in response.content.decode()


@pytest.mark.parametrize(
    ("state", "status", "note"),
    [
        (CaseState.SUBMITTED, "open", "已提交"),
        (CaseState.ACCEPTED, "open", "已受理"),
        (CaseState.IN_PROGRESS, "open", "办理中"),
        (CaseState.AWAITING_VERIFICATION, "open", "待核实"),
        (CaseState.REOPENED, "open", "重新办理"),
        # Jilin's orange light, as the tracking page names it, with what is awaited.
        (CaseState.AWAITING_FEEDBACK, "closed", "橘灯：处理完结，等待回访。请反映人评价。"),
        (CaseState.AWAITING_RETURN_VISIT, "closed", "橘灯：处理完结，等待回访。社区将电话或上门回访反映人。"),
        (CaseState.CLOSED, "closed", "已关闭"),
    ],
)
def test_states_map_to_open_and_closed(world: Any, state: str, status: str, note: str) -> None:
    make_case(world, state=state, now=timezone.now())
    [item] = parse(get("requests", "json"), "json")
    assert item["status"] == status
    assert note in item["status_notes"]
    assert (item["expected_datetime"] is None) == (status == "closed")


def test_rejected_and_merged_say_why(world: Any) -> None:
    now = timezone.now()
    main = make_case(world, now=now)
    make_case(world, now=now, state=CaseState.REJECTED, rejection_reason="属于物业管理范围")
    make_case(world, now=now, state=CaseState.MERGED, merged_into=main)
    notes = {i["status_notes"] for i in parse(get("requests", "json", status="closed"), "json")}
    assert any("属于物业管理范围" in n for n in notes)
    # The case it joined is named by its number, the id a client can look up: never its tracking code.
    assert any(f"与 {main.pk} 属同一问题" in n for n in notes)
    assert not any(main.tracking_code in n for n in notes)


def test_escalation_shows_in_agency_and_deadline(world: Any) -> None:
    case = make_case(world, now=timezone.now())
    before = parse(get(f"requests/{case.tracking_code}", "json"), "json")[0]
    case_whistle(case=case, actor=world.chief_x, reason="需要社区协调")
    after = parse(get(f"requests/{case.tracking_code}", "json"), "json")[0]
    assert before["agency_responsible"] == "金鱼巷街巷服务团队"
    assert after["agency_responsible"] == "新华社区"
    assert after["expected_datetime"] != before["expected_datetime"]
    assert "社区" in after["status_notes"]


def test_filters(world: Any) -> None:
    now = timezone.now()
    a = make_case(world, now=now - dt.timedelta(days=1))
    b = make_case(world, now=now - dt.timedelta(days=2), category=world.cat_b, tier="community")
    c = make_case(world, now=now - dt.timedelta(days=3), state=CaseState.CLOSED)
    old = make_case(world, now=now - dt.timedelta(days=120))

    def ids(**params: Any) -> list[str]:
        response = get("requests", "json", **params)
        assert response.status_code == 200, response.content
        # Anonymous answers name a request by its number; map back to tracking codes to compare.
        numbers = [int(i["service_request_id"]) for i in json.loads(response.content)]
        codes = dict(Case.objects.filter(pk__in=numbers).values_list("pk", "tracking_code"))
        return [codes[n] for n in numbers]

    assert ids() == [a.tracking_code, b.tracking_code, c.tracking_code]
    assert ids(status="open") == [a.tracking_code, b.tracking_code]
    assert ids(status="closed") == [c.tracking_code]
    assert ids(status="open,closed") == [a.tracking_code, b.tracking_code, c.tracking_code]
    assert ids(service_code="B01") == [b.tracking_code]
    assert ids(service_code="A01,B01", status="open") == [a.tracking_code, b.tracking_code]
    start = (now - dt.timedelta(days=2, hours=12)).isoformat(timespec="seconds")
    assert ids(start_date=start) == [a.tracking_code, b.tracking_code]
    end = (now - dt.timedelta(days=1, hours=12)).isoformat(timespec="seconds")
    assert ids(start_date=(now - dt.timedelta(days=10)).isoformat(), end_date=end) == [
        b.tracking_code,
        c.tracking_code,
    ]
    old_window = {
        "start_date": (now - dt.timedelta(days=125)).isoformat(),
        "end_date": (now - dt.timedelta(days=100)).isoformat(),
    }
    assert ids(**old_window) == [old.tracking_code]
    # service_request_id overrides every other argument, old requests included.
    assert ids(service_request_id=f"{old.pk},{a.pk}", status="closed") == [a.tracking_code, old.tracking_code]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "yesterday"},
        {"end_date": "2026-13-45T00:00:00Z"},
        {"status": "pending"},
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
    ],
)
def test_bad_queries_are_400(world: Any, fmt: str, params: dict[str, str]) -> None:
    response = get("requests", fmt, **params)
    assert response.status_code == 400
    errors_of(response, fmt)


def test_results_are_capped(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from issues.open311 import views

    monkeypatch.setattr(views, "MAX_RESULTS", 3)
    for _ in range(5):
        make_case(world, now=timezone.now())
    assert len(parse(get("requests", "json"), "json")) == 3


def test_a_key_narrows_reads_to_the_clients_area(world: Any) -> None:
    client = ApiClient(name="东湖小程序", area=world.other_district)
    key = client.set_new_key()
    client.save()
    make_case(world, now=timezone.now())
    far = make_case(world, now=timezone.now(), alley=world.other_alley)
    assert len(parse(get("requests", "json"), "json")) == 2
    [item] = parse(get("requests", "json", api_key=key), "json")
    assert item["service_request_id"] == str(far.pk)
    assert get("requests", "json", api_key="bad-bad-bad-bad-bad").status_code == 403


def test_media_url_only_for_public_photos(world: Any) -> None:
    from django.urls import NoReverseMatch, reverse

    case = make_case(world, now=timezone.now())
    photo(case, public=False)
    assert parse(get("requests", "json"), "json")[0]["media_url"] is None
    public = photo(case, public=True)
    url = parse(get("requests", "json"), "json")[0]["media_url"]
    try:
        assert url.endswith(reverse("public-photo", kwargs={"pk": public.pk}))
    except NoReverseMatch:
        assert url is None


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_posted_media_url_comes_back_to_keyed_clients(
    world: Any, api_client: tuple[ApiClient, str], fmt: str
) -> None:
    """The client's own link is returned to keyed clients of the area; anonymous readers see only
    photos staff have made public, and a public photo comes first for everyone."""
    from django.urls import reverse

    _client, key = api_client
    link = "https://img.example.org/lamp.jpg?size=large&v=2"
    [answer] = parse(post(fmt, valid_post(world, key, media_url=link)), fmt)
    number = answer["service_request_id"]
    plain = make_case(world, now=timezone.now())  # no media_url posted
    [one] = parse(get(f"requests/{number}", fmt, api_key=key), fmt)
    assert one["media_url"] == link
    many = {i["service_request_id"]: i["media_url"] for i in parse(get("requests", fmt, api_key=key), fmt)}
    assert many == {number: link, str(plain.pk): None}
    assert parse(get(f"requests/{number}", fmt), fmt)[0]["media_url"] is None
    assert link not in get("requests", fmt).content.decode().replace("&amp;", "&")
    # A photo staff made public is the request's media for every reader.
    public = photo(Case.objects.get(pk=number), public=True)
    for params in ({}, {"api_key": key}):
        [item] = parse(get(f"requests/{number}", fmt, **params), fmt)
        assert item["media_url"].endswith(reverse("public-photo", kwargs={"pk": public.pk}))


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_request_detail_and_404(world: Any, fmt: str) -> None:
    case = make_case(world, now=timezone.now() - dt.timedelta(days=400))
    [item] = parse(get(f"requests/{case.tracking_code}", fmt), fmt)
    assert set(item) == REQUEST_FIELDS
    assert item["service_request_id"] == str(case.pk)
    [by_number] = parse(get(f"requests/{case.pk}", fmt), fmt)
    assert by_number == item
    response = get("requests/NOPE1234", fmt)
    assert response.status_code == 404
    errors_of(response, fmt)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_tokens(world: Any, fmt: str) -> None:
    case = make_case(world)
    [item] = parse(get(f"tokens/{case.tracking_code}", fmt), fmt)
    assert item == {"service_request_id": str(case.pk), "token": case.tracking_code}
    response = get("tokens/NOPE1234", fmt)
    assert response.status_code == 404
    errors_of(response, fmt)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_one_service_request_id_everywhere(world: Any, api_client: tuple[ApiClient, str], fmt: str) -> None:
    """POST, GET one, GET many and tokens name a request by one id: its number, for every reader.

    A client matching its requests by the id the POST gave finds each of them again; the
    tracking code comes back only as the POST's token, to the client that filed it.
    """
    _client, key = api_client
    [answer] = parse(post(fmt, valid_post(world, key)), fmt)
    case = Case.objects.get()
    number, code = str(case.pk), case.tracking_code
    assert (answer["service_request_id"], answer["token"]) == (number, code)
    for params in ({}, {"api_key": key}):
        for path in (f"requests/{number}", f"requests/{code}", f"requests/{code.lower()}"):
            response = get(path, fmt, **params)
            [item] = parse(response, fmt)
            assert item["service_request_id"] == number, (path, params)
            assert code not in response.content.decode()
        for query in ({}, {"service_request_id": number}):
            response = get("requests", fmt, **query, **params)
            assert [i["service_request_id"] for i in parse(response, fmt)] == [number]
            assert code not in response.content.decode()
    assert parse(get(f"tokens/{code}", fmt), fmt) == [{"service_request_id": number, "token": code}]


# --- tracking codes: one per-address budget, no bulk testing ----------------------------------------


def refusal(response: Any, fmt: str) -> None:
    """The spec's error array, status 429, in Chinese, with when to come back."""
    assert response.status_code == 429, response.content
    [error] = errors_of(response, fmt)
    assert "查询码" in error["description"] and "60 分钟" in error["description"]
    assert response["Retry-After"] == "3600"


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("resource", ["requests", "tokens"])
def test_wrong_codes_spend_the_addresss_budget_then_every_code_is_refused(
    world: Any, settings: Any, fmt: str, resource: str
) -> None:
    """requests/{code} and tokens/{code} count wrong codes in the tracking page's budget and,
    once the address has spent it, refuse the right code too: nothing tells a guess from a hit."""
    settings.JXT_TRACK_RATE_IP = "3/h"
    case = make_case(world)
    for _ in range(10):  # a client reading its own request again and again is never counted
        assert get(f"{resource}/{case.tracking_code}", fmt).status_code == 200
    for guess in ("ZZZZZZZ2", "ZZZZZZZ3", "ZZZZZZZ4"):
        assert get(f"{resource}/{guess}", fmt).status_code == 404
    refusal(get(f"{resource}/ZZZZZZZ5", fmt), fmt)
    right = get(f"{resource}/{case.tracking_code}", fmt)
    refusal(right, fmt)
    assert "service_request_id" not in right.content.decode()
    # Numbers are public: reading by number is never refused; another address is not affected.
    assert get(f"requests/{case.pk}", fmt).status_code == 200
    assert (
        Client().get(f"{BASE}{resource}/{case.tracking_code}.{fmt}", REMOTE_ADDR="10.0.0.8").status_code
        == 200
    )


def test_the_budget_is_the_tracking_pages_own(world: Any, settings: Any) -> None:
    """One budget: wrong codes on the tracking page and on Open311 add up, and the refusal is everywhere."""
    settings.JXT_TRACK_RATE_IP = "3/h"
    case = make_case(world)
    browser = Client()
    assert browser.get("/track/ZZZZZZZ2/").status_code == 404
    assert get("tokens/ZZZZZZZ3", "json").status_code == 404
    assert get("requests/ZZZZZZZ4", "json").status_code == 404
    refusal(get("tokens/ZZZZZZZ5", "json"), "json")
    assert browser.get(f"/track/{case.tracking_code}/").status_code == 429


def test_missing_numbers_are_not_counted(world: Any, settings: Any) -> None:
    settings.JXT_TRACK_RATE_IP = "3/h"
    case = make_case(world)
    for number in range(case.pk + 1, case.pk + 10):
        assert get(f"requests/{number}", "json").status_code == 404
    assert get(f"tokens/{case.tracking_code}", "json").status_code == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bulk_lookup_takes_at_most_twenty_numbers_and_no_codes(world: Any, fmt: str) -> None:
    cases = [make_case(world, now=timezone.now()) for _ in range(3)]
    numbers = [str(c.pk) for c in cases]
    twenty = ",".join([*numbers, *(str(n) for n in range(900_000, 900_017))])
    assert len(parse(get("requests", fmt, service_request_id=twenty), fmt)) == 3
    too_many = get("requests", fmt, service_request_id=f"{twenty},900017")
    assert too_many.status_code == 400
    assert "20" in errors_of(too_many, fmt)[0]["description"]
    # Tracking codes cannot be tested in bulk (nor one at a time here): numbers only.
    with_code = get("requests", fmt, service_request_id=f"{numbers[0]},{cases[1].tracking_code}")
    assert with_code.status_code == 400
    [error] = errors_of(with_code, fmt)
    assert "service_request_id" in error["description"] and cases[1].tracking_code not in error["description"]
    # Anonymous readers still get only the anonymous-safe fields.
    Case.objects.filter(pk=cases[0].pk).update(description="灯坏了，请打 13912345678 联系我")
    [item] = parse(get("requests", fmt, service_request_id=numbers[0]), fmt)
    assert item["description"] == world.cat_a.name and item["lat"] is None


@pytest.mark.parametrize("n", [5, 50])
def test_get_requests_runs_a_constant_number_of_queries(world: Any, n: int) -> None:
    now = timezone.now()
    cases = [make_case(world, now=now, alley=world.alley_x if i % 2 else world.alley_y) for i in range(n)]
    for case in cases[::3]:
        photo(case, public=True)
    with CaptureQueriesContext(connection) as queries:
        response = get("requests", "xml")
    assert response.status_code == 200
    assert len(parse(response, "xml")) == n
    # cases (with category, alley, holder, lead department), public photos, area names
    assert len(queries) == 3


@pytest.mark.parametrize("n", [5, 50])
def test_keyed_get_requests_runs_a_constant_number_of_queries(
    world: Any, api_client: tuple[ApiClient, str], n: int
) -> None:
    """The posted media_url is read in the cases' own query, not once per case."""
    client, key = api_client
    now = timezone.now()
    cases = [make_case(world, now=now, alley=world.alley_x if i % 2 else world.alley_y) for i in range(n)]
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case=case, kind=EventKind.NOTE, public=False, data={"media_url": f"https://m.example.org/{i}"}
        )
        for i, case in enumerate(cases[::2])
    )
    for case in cases[::3]:
        photo(case, public=True)
    ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)  # no touch write in the count
    with CaptureQueriesContext(connection) as queries:
        response = get("requests", "xml", api_key=key)
    assert response.status_code == 200
    items = parse(response, "xml")
    assert len(items) == n
    assert sum("m.example.org" in (i["media_url"] or "") for i in items) == len(cases[::2]) - len(cases[::6])
    # the client, then cases (with their posted media_url), public photos, area names
    assert len(queries) == 4, [q["sql"][:80] for q in queries.captured_queries]


def test_staff_roles_are_irrelevant_to_open311(world: Any) -> None:
    """Open311 answers the same whoever is logged in: it is a public, key-scoped interface."""
    make_case(world, now=timezone.now())
    browser = Client()
    browser.force_login(world.chief_y)
    assert len(json.loads(browser.get(f"{BASE}requests.json").content)) == 1
    assert Role.CHIEF  # the chief's own scope would hide alley_x; Open311 does not use it


def test_the_reporters_number_is_kept_in_its_one_normal_form(
    world: Any, api_client: tuple[ApiClient, str]
) -> None:
    """A client's "+86 138-1234-5678" is the 13812345678 a resident verifies to see their own reports."""
    _client, key = api_client
    response = post("json", valid_post(world, key, phone="+86 138-1234-5678"))
    assert response.status_code == 201, response.content
    assert Case.objects.get().reporter_phone == "13812345678"
