"""issues/open311: GeoReport v2 in both formats against the specification's field lists and error format."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from alleys.choices import AreaLevel, Role
from dispatch.models import CategoryType
from issues.choices import CaseSource, CaseState, EventKind
from issues.models import ApiClient, Case, CaseEvent, CasePhoto
from issues.workflow import case_whistle
from tests.factories import make_case

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
        case=case, image=ContentFile(buffer.getvalue(), name="p.jpg"), is_public=public
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
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert answer["account_id"] is None
    case = Case.objects.get(tracking_code=answer["service_request_id"])
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


def test_post_writes_the_case_and_the_clients_note_in_one_transaction(
    world: Any, api_client: tuple[ApiClient, str]
) -> None:
    """The case, its two events and their notification's outbox row are written atomically.

    One atomic block (the test runs inside pytest-django's transaction, so it shows as one
    SAVEPOINT) holds the case's INSERT, one INSERT of both events and the outbox row's.
    """
    _client, key = api_client
    with CaptureQueriesContext(connection) as queries:
        response = post("json", valid_post(world, key, service_code=world.cat_b.code))
    assert response.status_code == 201, response.content
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].upper().startswith("INSERT")]
    assert statements.count("SAVEPOINT") == 1, statements
    assert sum('"issues_case"' in sql for sql in writes) == 1
    assert sum('"issues_caseevent"' in sql for sql in writes) == 1
    assert sum('"issues_notificationoutbox"' in sql for sql in writes) == 1
    kinds = set(
        CaseEvent.objects.filter(
            case__tracking_code=parse(response, "json")[0]["service_request_id"]
        ).values_list("kind", "public")
    )
    assert kinds == {(EventKind.SUBMITTED, True), (EventKind.NOTE, False)}


def test_post_accepts_the_alley_as_an_attribute(world: Any, api_client: tuple[ApiClient, str]) -> None:
    _client, key = api_client
    data = valid_post(world, key, lat="24.9", long="118.5", **{"attribute[alley]": world.alley_y.code})
    del data["address_id"]
    response = post("json", data)
    assert response.status_code == 201
    assert Case.objects.get().alley == world.alley_y


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
        ({"address_id": None, "address_string": "金鱼巷口"}, 400, "address_id required"),
        ({"lat": "24.9"}, 400, "lat"),
        ({"lat": "north", "long": "118.5"}, 400, "lat"),
        ({"lat": "95", "long": "118.5"}, 400, "lat"),
        ({"address_id": "350503001001001"}, 400, "350503001001001"),
        ({"address_id": "350502001001"}, 400, "350502001001"),
        ({"attribute[urgency]": "asap"}, 400, "urgency"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"description": ""}, 400, "描述"),
        ({"description": "长" * 2001}, 400, "description"),
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
    # A client with a key for the area reads the tracking code and the description, mobile numbers masked.
    client = ApiClient(name="12345热线", area=world.alley_x)
    key = client.set_new_key()
    client.save()
    [trusted] = parse(get("requests", fmt, api_key=key), fmt)
    assert trusted["service_request_id"] == case.tracking_code
    assert "139****5678" in trusted["description"] and "13912345678" not in trusted["description"]


@pytest.mark.parametrize(
    ("state", "status", "note"),
    [
        (CaseState.SUBMITTED, "open", "已提交"),
        (CaseState.ACCEPTED, "open", "已受理"),
        (CaseState.IN_PROGRESS, "open", "办理中"),
        (CaseState.AWAITING_VERIFICATION, "open", "待核实"),
        (CaseState.REOPENED, "open", "重新办理"),
        (CaseState.AWAITING_FEEDBACK, "closed", "待反映人评价"),
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
    assert any(main.tracking_code in n for n in notes)


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
    assert ids(service_request_id=f"{old.tracking_code},{a.tracking_code.lower()}", status="closed") == [
        a.tracking_code,
        old.tracking_code,
    ]


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
    assert item["service_request_id"] == far.tracking_code
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
    assert item == {"service_request_id": case.tracking_code, "token": case.tracking_code}
    response = get("tokens/NOPE1234", fmt)
    assert response.status_code == 404
    errors_of(response, fmt)


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
    # cases (with category, alley, holder, lead department, merge target), public photos, area names
    assert len(queries) == 3


def test_staff_roles_are_irrelevant_to_open311(world: Any) -> None:
    """Open311 answers the same whoever is logged in: it is a public, key-scoped interface."""
    make_case(world, now=timezone.now())
    browser = Client()
    browser.force_login(world.chief_y)
    assert len(json.loads(browser.get(f"{BASE}requests.json").content)) == 1
    assert Role.CHIEF  # the chief's own scope would hide alley_x; Open311 does not use it
