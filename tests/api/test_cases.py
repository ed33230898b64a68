"""issues/api (cases): scoping per role, detail and personal data, filters, ordering, intake, transitions."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from alleys.choices import AreaLevel
from issues.choices import CaseSource, CaseState, EventKind, FeedbackChannel
from issues.models import ApiClient, Case, CaseEvent, Feedback, PatrolLog
from issues.workflow import case_accept, case_dispatch, case_submit
from tests.factories import MONDAY, UserFactory, grant, make_case

pytestmark = pytest.mark.django_db

Api = Callable[[str], APIClient]
CASES = "/api/v1/cases/"


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def snapshot(case: Case) -> tuple[Any, ...]:
    """What a refused transition must leave untouched."""
    case.refresh_from_db()
    return (
        case.state,
        case.tier,
        case.holder_area_id,
        case.lead_department_id,
        case.supervised,
        case.chase_count,
        case.events.count(),
        case.orders.count(),
        case.updated_at,
    )


@pytest.fixture
def cases(world: Any) -> dict[str, Case]:
    """One case in each corner of the world."""
    x = make_case(world, alley=world.alley_x)
    y = make_case(world, alley=world.alley_y, now=world_now(1))
    far = make_case(world, alley=world.other_alley, now=world_now(2))
    at_district = make_case(world, alley=world.alley_x, tier=AreaLevel.DISTRICT, now=world_now(3))
    case_dispatch(case=at_district, actor=world.district_officer, lead=world.dept_lead, cooperating=[])
    return {"x": x, "y": y, "far": far, "dispatched": at_district}


def world_now(hours: int) -> dt.datetime:

    return MONDAY + dt.timedelta(hours=hours)


# --- list scoping ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "visible"),
    [
        ("chief_x", {"x", "dispatched"}),
        ("service_x", {"x", "dispatched"}),
        ("supervision_x", {"x", "dispatched"}),
        ("chief_y", {"y"}),
        ("community_worker_x", {"x", "dispatched"}),
        ("community_worker_y", {"y"}),
        ("community_worker_far", {"far"}),
        ("street_worker", {"x", "y", "dispatched"}),
        ("street_worker_far", {"far"}),
        ("district_officer", {"x", "y", "dispatched"}),
        ("city_officer", {"x", "y", "far", "dispatched"}),
        ("lead_contact", {"dispatched"}),
        ("coop_contact", set()),
        ("far_contact", set()),
        ("admin", {"x", "y", "far", "dispatched"}),
    ],
)
def test_list_is_scoped_per_role(
    world: Any, api_as: Api, cases: dict[str, Case], actor: str, visible: set[str]
) -> None:
    expected = {cases[name].pk for name in visible}
    assert set(ids(api_as(actor).get(CASES))) == expected
    for name, case in cases.items():
        status = api_as(actor).get(f"{CASES}{case.pk}/").status_code
        assert status == (200 if name in visible else 404), (actor, name)


def test_anonymous_gets_401_everywhere(world: Any, api_as: Api, cases: dict[str, Case]) -> None:
    client = api_as("anonymous")
    assert client.get(CASES).status_code == 401
    assert client.get(f"{CASES}{cases['x'].pk}/").status_code == 401
    response = client.post(f"{CASES}{cases['x'].pk}/accept/", {}, format="json")
    assert response.status_code == 401
    assert cases["x"].events.count() == 0


def test_list_has_no_personal_data(world: Any, api_as: Api, cases: dict[str, Case]) -> None:
    text = api_as("chief_x").get(CASES).content.decode()
    assert "张三" not in text and "13900001234" not in text and "reporter" not in text


# --- detail ----------------------------------------------------------------------------------------


def test_detail_has_the_whole_timeline_for_staff(world: Any, api_as: Api) -> None:
    case = case_submit(
        category=world.cat_a,
        alley=world.alley_x,
        description="路灯坏了",
        reporter_name="李四",
        reporter_phone="13712345678",
        address_detail="金鱼巷 3 号",
    )
    case_accept(case=case, actor=world.chief_x, note="马上去看")
    CaseEvent.objects.create(
        case=case, kind=EventKind.NOTE, note="内部备注", public=False, actor=world.chief_x
    )
    body = api_as("community_worker_x").get(f"{CASES}{case.pk}/").json()
    assert [e["kind"] for e in body["timeline"]] == ["submitted", "accepted", "note"]
    assert body["timeline"][2]["public"] is False
    assert body["timeline"][1]["actor"] == "chief_x"
    assert body["timeline"][1]["note"] == "马上去看"
    assert body["timeline"][0]["actor"] is None
    assert body["allowed_actions"] == [
        "start",
        "whistle",
        "resolve",
        "reject",
        "merge",
        "chase",
        "take",
        "assign",
        "note",
        "progress",
    ]


@pytest.mark.parametrize(
    "actor",
    [
        "chief_x",
        "service_x",
        "community_worker_x",
        "supervision_x",
        "street_worker",
        "district_officer",
        "admin",
    ],
)
def test_reporter_is_shown_as_the_privacy_rules_say(
    world: Any, api_as: Api, cases: dict[str, Case], actor: str
) -> None:
    from issues.privacy import reporter_for

    Case.objects.filter(pk=cases["x"].pk).update(address_detail="金鱼巷 3 号")
    case = Case.objects.select_related("alley").get(pk=cases["x"].pk)
    reporter = api_as(actor).get(f"{CASES}{case.pk}/").json()["reporter"]
    assert reporter == reporter_for(world.actor(actor), case)
    full = {"name": "张三", "phone": "13900001234", "address": "金鱼巷 3 号"}
    masked = {"name": "张*", "phone": "139****1234", "address": ""}
    if actor in ("chief_x", "service_x", "admin"):
        assert reporter == full
    if actor in ("supervision_x", "street_worker", "district_officer"):
        assert reporter == masked


def test_department_sees_reporter_of_its_dispatched_case(
    world: Any, api_as: Api, cases: dict[str, Case]
) -> None:
    body = api_as("lead_contact").get(f"{CASES}{cases['dispatched'].pk}/").json()
    assert body["reporter"]["phone"] == "13900001234"
    assert body["holder"] == world.dept_lead.name
    assert [o["department"] for o in body["orders"]] == [world.dept_lead.pk]


# --- filters, ordering, pagination -------------------------------------------------------------------------


def test_filters(world: Any, api_as: Api, cases: dict[str, Case]) -> None:
    admin = api_as("admin")
    x, y, far, dispatched = cases["x"], cases["y"], cases["far"], cases["dispatched"]
    Case.objects.filter(pk=y.pk).update(supervised=True, state=CaseState.IN_PROGRESS)
    Case.objects.filter(pk=far.pk).update(state=CaseState.CLOSED, category=world.cat_b)

    def get(**params: Any) -> set[int]:
        return set(ids(admin.get(CASES, params)))

    assert get(area=world.community_x.code) == {x.pk, dispatched.pk}
    assert get(area=world.district.code) == {x.pk, y.pk, dispatched.pk}
    assert get(area=world.city.code) == {x.pk, y.pk, far.pk, dispatched.pk}
    assert get(state="in_progress") == {y.pk}
    assert set(ids(admin.get(f"{CASES}?state=in_progress&state=closed"))) == {y.pk, far.pk}
    assert get(tier="district") == {dispatched.pk}
    assert get(category=world.cat_b.code) == {far.pk}
    assert get(category_class="A") == {x.pk, y.pk, dispatched.pk}
    assert get(department=world.dept_lead.pk) == {dispatched.pk}
    assert get(department=world.dept_coop.pk) == set()
    assert get(lead_department=world.dept_lead.pk) == {dispatched.pk}
    # Dispatched with no street review: the organisation department's own supervision.
    assert get(supervised="true") == {y.pk, dispatched.pk}
    assert get(supervised="false") == {x.pk, far.pk}
    assert get(is_open="false") == {far.pk}
    assert get(tracking_code=x.tracking_code.lower()) == {x.pk}
    assert get(created_after=world_now(1).isoformat()) == {y.pk, far.pk, dispatched.pk}
    assert get(created_before=world_now(1).isoformat()) == {x.pk}
    assert get(created_after="2026-03-02", created_before="2026-03-03") == {x.pk, y.pk, far.pk, dispatched.pk}
    assert get(updated_after=(timezone.now() + dt.timedelta(days=1)).isoformat()) == set()
    assert get(source=CaseSource.RESIDENT_FORM) == {x.pk, y.pk, far.pk, dispatched.pk}


def test_overdue_filter(world: Any, api_as: Api) -> None:
    now = timezone.now()
    late = make_case(world, now=now - dt.timedelta(days=30))
    fresh = make_case(world, now=now)
    done = make_case(world, now=now - dt.timedelta(days=30), state=CaseState.CLOSED)
    client = api_as("community_worker_x")
    assert set(ids(client.get(CASES, {"overdue": "true"}))) == {late.pk}
    assert set(ids(client.get(CASES, {"overdue": "false"}))) == {fresh.pk, done.pk}
    rows = {r["id"]: r["overdue"] for r in client.get(CASES).json()["results"]}
    assert rows == {late.pk: True, fresh.pk: False, done.pk: False}


def test_held_filter(world: Any, api_as: Api, cases: dict[str, Case]) -> None:
    at_community = make_case(world, alley=world.alley_x, tier=AreaLevel.COMMUNITY)
    assert set(ids(api_as("chief_x").get(CASES, {"held": "true"}))) == {cases["x"].pk}
    assert set(ids(api_as("community_worker_x").get(CASES, {"held": "true"}))) == {
        cases["x"].pk,
        at_community.pk,
    }
    assert set(ids(api_as("district_officer").get(CASES, {"held": "true"}))) == {cases["dispatched"].pk}


@pytest.mark.parametrize(
    "params",
    [
        {"state": "bogus"},
        {"tier": "planet"},
        {"department": "x"},
        {"created_after": "not-a-date"},
    ],
)
def test_invalid_filter_is_400_in_the_error_shape(world: Any, api_as: Api, params: dict[str, str]) -> None:
    response = api_as("chief_x").get(CASES, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == set(params)


def test_ordering_is_stable_and_pages_do_not_overlap(world: Any, api_as: Api) -> None:
    same_moment = world_now(0)
    made = [make_case(world, now=same_moment) for _ in range(7)]
    client = api_as("chief_x")
    seen: list[int] = []
    for offset in range(0, 7, 3):
        page = client.get(CASES, {"limit": 3, "offset": offset}).json()
        assert page["count"] == 7
        seen += [r["id"] for r in page["results"]]
    assert seen == sorted((c.pk for c in made), reverse=True)
    by_updated = ids(client.get(CASES, {"ordering": "updated_at", "limit": 100}))
    assert len(by_updated) == len(set(by_updated)) == 7
    assert ids(client.get(CASES, {"ordering": "id"})) == sorted(c.pk for c in made)


def test_page_size_is_capped(world: Any, api_as: Api) -> None:
    for _ in range(3):
        make_case(world)
    body = api_as("chief_x").get(CASES, {"limit": 100000}).json()
    assert body["count"] == 3
    from core.api.base import ApiPagination

    assert ApiPagination.max_limit == 200


# --- intake ----------------------------------------------------------------------------------------------


def test_chief_registers_a_case_found_on_patrol(world: Any, api_as: Api) -> None:
    patrol = PatrolLog.objects.create(chief=world.chief_x, alley=world.alley_x, date=dt.date(2026, 3, 2))
    response = api_as("chief_x").post(
        CASES,
        {
            "category": world.cat_a.code,
            "alley": world.alley_x.code,
            "description": "巡查发现井盖松动",
            "source": "patrol",
            "patrol": patrol.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert (case.source, case.state, case.tier, case.patrol_id) == ("patrol", "submitted", "alley", patrol.pk)
    assert case.created_by == world.chief_x
    assert [e["kind"] for e in body["timeline"]] == ["submitted"]


@pytest.mark.parametrize(
    ("actor", "change", "status", "field"),
    [
        ("chief_x", {"alley": "350502001002001"}, 400, "alley"),  # not theirs: does not exist for them
        ("chief_x", {"category": "NOPE"}, 400, "category"),
        ("chief_x", {"description": ""}, 400, "description"),
        ("chief_x", {"source": "resident_form"}, 400, "source"),
        ("chief_x", {"start_tier": "city"}, 400, "start_tier"),
        ("chief_x", {"latitude": "100"}, 400, "latitude"),
        ("chief_x", {"reporter_phone": "12345"}, 400, "reporter_phone"),
        ("lead_contact", {}, 400, "alley"),
        ("anonymous", {}, 401, None),
    ],
)
def test_intake_refusals_write_nothing(
    world: Any, api_as: Api, actor: str, change: dict[str, Any], status: int, field: str | None
) -> None:
    data = {"category": world.cat_a.code, "alley": world.alley_x.code, "description": "井盖松动", **change}
    response = api_as(actor).post(CASES, data, format="json")
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()["error"]["fields"]
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_intake_patrol_must_be_of_the_same_alley(world: Any, api_as: Api) -> None:
    from alleys.choices import Role

    grant(world.chief_x, Role.CHIEF, area=world.alley_y)
    patrol = PatrolLog.objects.create(chief=world.chief_x, alley=world.alley_y, date=dt.date(2026, 3, 2))
    data = {"category": "A01", "alley": world.alley_x.code, "description": "x", "patrol": patrol.pk}
    response = api_as("chief_x").post(CASES, data, format="json")
    assert response.status_code == 400
    assert "patrol" in response.json()["error"]["fields"]


def test_intake_by_an_integration_is_source_api(world: Any) -> None:
    from alleys.choices import Role

    bot = grant(UserFactory(username="hotline-bot"), Role.COMMUNITY_STAFF, area=world.community_x)
    api_client = ApiClient(name="12345", area=world.district, service_user=bot)
    raw = api_client.set_new_key()
    api_client.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    data = {
        "category": "A01",
        "alley": world.alley_x.code,
        "description": "热线来电：路灯不亮",
        "reporter_phone": "13800001111",
    }
    response = client.post(CASES, data, format="json")
    assert response.status_code == 201
    assert Case.objects.get().source == CaseSource.API


# --- transitions ----------------------------------------------------------------------------------------


def jpeg() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, format="JPEG")
    buffer.seek(0)
    buffer.name = "fix.jpg"
    return buffer


MISSED = {"channel": "phone", "reached": False, "note": "无人接听"}
REACHED = {
    "channel": "phone",
    "reached": True,
    "solved": "solved",
    "satisfaction": "basic",
    "words": "修好了",
}

TRANSITION_TABLE = [
    # (action, case state, tier, actor, payload, expected status, expected state afterwards)
    ("accept", "submitted", "alley", "chief_x", {"note": "收到"}, 200, "accepted"),
    ("accept", "submitted", "alley", "community_worker_x", {}, 200, "accepted"),
    ("accept", "submitted", "alley", "supervision_x", {}, 403, "submitted"),
    ("accept", "submitted", "alley", "street_worker", {}, 403, "submitted"),
    ("accept", "submitted", "alley", "lead_contact", {}, 404, "submitted"),
    ("accept", "submitted", "alley", "chief_y", {}, 404, "submitted"),
    ("accept", "accepted", "alley", "chief_x", {}, 409, "accepted"),
    ("start", "accepted", "alley", "chief_x", {}, 200, "in_progress"),
    ("whistle", "accepted", "alley", "chief_x", {"reason": "需要社区协调"}, 200, "submitted"),
    ("whistle", "accepted", "alley", "chief_x", {"reason": ""}, 400, "accepted"),
    ("whistle", "accepted", "alley", "chief_x", {}, 400, "accepted"),
    ("whistle", "accepted", "alley", "community_worker_y", {"reason": "x"}, 404, "accepted"),
    ("whistle", "accepted", "street", "street_worker", {"reason": "区里协调"}, 400, "accepted"),
    ("whistle", "closed", "alley", "chief_x", {"reason": "x"}, 409, "closed"),
    ("resolve", "in_progress", "alley", "chief_x", {"note": "已修好"}, 200, "awaiting_verification"),
    ("resolve", "in_progress", "alley", "chief_x", {"note": ""}, 400, "in_progress"),
    ("resolve", "submitted", "alley", "chief_x", {"note": "已修好"}, 409, "submitted"),
    ("resolve", "in_progress", "alley", "supervision_x", {"note": "已修好"}, 403, "in_progress"),
    (
        "verify",
        "awaiting_verification",
        "alley",
        "community_worker_x",
        {"passed": True},
        200,
        "awaiting_feedback",
    ),
    (
        "verify",
        "awaiting_verification",
        "alley",
        "community_worker_x",
        {"passed": False, "note": "灯还是不亮"},
        200,
        "in_progress",
    ),
    (
        "verify",
        "awaiting_verification",
        "alley",
        "community_worker_x",
        {"passed": False},
        400,
        "awaiting_verification",
    ),
    ("verify", "awaiting_verification", "alley", "community_worker_x", {}, 400, "awaiting_verification"),
    ("verify", "awaiting_verification", "alley", "chief_x", {"passed": True}, 403, "awaiting_verification"),
    (
        "verify",
        "awaiting_verification",
        "alley",
        "community_worker_y",
        {"passed": True},
        404,
        "awaiting_verification",
    ),
    ("verify", "in_progress", "alley", "community_worker_x", {"passed": True}, 409, "in_progress"),
    (
        "feedback",
        "awaiting_feedback",
        "alley",
        "community_worker_x",
        {"solved": "solved", "satisfaction": "satisfied"},
        200,
        "closed",
    ),
    (
        "feedback",
        "awaiting_feedback",
        "alley",
        "community_worker_x",
        {"solved": "not_solved", "satisfaction": "dissatisfied"},
        200,
        "reopened",
    ),
    (
        "feedback",
        "awaiting_feedback",
        "alley",
        "community_worker_x",
        {"solved": "maybe", "satisfaction": "satisfied"},
        400,
        "awaiting_feedback",
    ),
    (
        "feedback",
        "awaiting_feedback",
        "alley",
        "chief_x",
        {"solved": "solved", "satisfaction": "satisfied"},
        403,
        "awaiting_feedback",
    ),
    (
        "feedback",
        "in_progress",
        "alley",
        "community_worker_x",
        {"solved": "solved", "satisfaction": "satisfied"},
        409,
        "in_progress",
    ),
    # Once the window passed the community records return visits; a staff return call is refused.
    (
        "feedback",
        "awaiting_return_visit",
        "alley",
        "community_worker_x",
        {"solved": "solved", "satisfaction": "satisfied"},
        409,
        "awaiting_return_visit",
    ),
    *[
        ("return-visit", "awaiting_return_visit", tier, actor, MISSED, 200, "awaiting_return_visit")
        for tier, actor in (
            ("alley", "community_worker_x"),
            ("district", "community_worker_x"),
            ("alley", "admin"),
        )
    ],
    ("return-visit", "awaiting_return_visit", "alley", "community_worker_x", REACHED, 200, "closed"),
    (
        "return-visit",
        "awaiting_return_visit",
        "alley",
        "community_worker_x",
        {**REACHED, "channel": "in_person", "solved": "not_solved", "satisfaction": "dissatisfied"},
        200,
        "reopened",
    ),
    (
        "return-visit",
        "awaiting_return_visit",
        "alley",
        "community_worker_x",
        {"channel": "phone", "reached": True},
        400,
        "awaiting_return_visit",
    ),
    (
        "return-visit",
        "awaiting_return_visit",
        "alley",
        "community_worker_x",
        {"channel": "letter", "reached": False},
        400,
        "awaiting_return_visit",
    ),
    (
        "return-visit",
        "awaiting_return_visit",
        "alley",
        "community_worker_x",
        {**MISSED, "words": "说了什么"},
        400,
        "awaiting_return_visit",
    ),
    *[
        ("return-visit", "awaiting_return_visit", "alley", actor, MISSED, 403, "awaiting_return_visit")
        for actor in ("chief_x", "service_x", "street_worker", "district_officer", "city_officer")
    ],
    *[
        ("return-visit", "awaiting_return_visit", "alley", actor, MISSED, 404, "awaiting_return_visit")
        for actor in ("community_worker_y", "community_worker_far", "lead_contact")
    ],
    ("return-visit", "awaiting_feedback", "alley", "community_worker_x", MISSED, 409, "awaiting_feedback"),
    ("return-visit", "closed", "alley", "community_worker_x", MISSED, 409, "closed"),
    ("reject", "submitted", "alley", "chief_x", {"reason": "属物业管理范围"}, 200, "rejected"),
    ("reject", "submitted", "alley", "chief_x", {"reason": " "}, 400, "submitted"),
    ("reject", "in_progress", "alley", "chief_x", {"reason": "x"}, 409, "in_progress"),
    ("reject", "submitted", "alley", "street_worker", {"reason": "x"}, 403, "submitted"),
    ("supervise", "in_progress", "alley", "street_worker", {"note": "请加快"}, 200, "in_progress"),
    ("supervise", "in_progress", "alley", "district_officer", {}, 200, "in_progress"),
    ("supervise", "in_progress", "alley", "chief_x", {}, 403, "in_progress"),
    ("supervise", "closed", "alley", "street_worker", {}, 409, "closed"),
    ("chase", "in_progress", "alley", "community_worker_x", {}, 200, "in_progress"),
    ("chase", "in_progress", "alley", "street_worker", {}, 200, "in_progress"),
    ("chase", "in_progress", "alley", "chief_x", {}, 403, "in_progress"),
    ("chase", "in_progress", "alley", "street_worker_far", {}, 404, "in_progress"),
    (
        "dispatch",
        "submitted",
        "district",
        "district_officer",
        {"lead": "dept_lead", "cooperating": ["dept_coop"]},
        200,
        "accepted",
    ),
    ("dispatch", "submitted", "district", "district_officer", {"lead": "dept_far"}, 400, "submitted"),
    ("dispatch", "submitted", "district", "district_officer", {}, 400, "submitted"),
    ("dispatch", "submitted", "district", "street_worker", {"lead": "dept_lead"}, 403, "submitted"),
    ("dispatch", "submitted", "district", "district_officer_far", {"lead": "dept_lead"}, 404, "submitted"),
    ("dispatch", "submitted", "alley", "chief_x", {"lead": "dept_lead"}, 409, "submitted"),
    ("dispatch", "submitted", "city", "city_officer", {"lead": "dept_city"}, 200, "accepted"),
]


def resolve_payload(world: Any, payload: dict[str, Any]) -> dict[str, Any]:
    out = dict(payload)
    for key in ("lead",):
        if key in out:
            out[key] = getattr(world, out[key]).pk
    if "cooperating" in out:
        out["cooperating"] = [getattr(world, name).pk for name in out["cooperating"]]
    return out


@pytest.mark.parametrize(("action", "state", "tier", "actor", "payload", "status", "after"), TRANSITION_TABLE)
def test_transitions(
    world: Any,
    api_as: Api,
    action: str,
    state: str,
    tier: str,
    actor: str,
    payload: dict[str, Any],
    status: int,
    after: str,
) -> None:
    case = make_case(world, state=state, tier=tier, now=timezone.now())
    before = snapshot(case)
    response = api_as(actor).post(
        f"{CASES}{case.pk}/{action}/", resolve_payload(world, payload), format="json"
    )
    assert response.status_code == status, response.content.decode()
    case.refresh_from_db()
    assert case.state == after
    if status == 200:
        assert response.json()["state"] == after
        assert response.json()["id"] == case.pk
    else:
        error = response.json()["error"]
        assert error["message"]
        assert (
            error["code"]
            == {400: "invalid", 403: "permission_denied", 404: "not_found", 409: "conflict"}[status]
        )
        assert snapshot(case) == before  # nothing half-written


def test_whistle_moves_the_case_up_and_the_street_names_departments(world: Any, api_as: Api) -> None:
    case = make_case(world, state="accepted", tier="street", now=timezone.now())
    response = api_as("street_worker").post(
        f"{CASES}{case.pk}/whistle/",
        {"reason": "需区城管局处理", "departments": [world.dept_lead.pk], "urgency": "urgent"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["tier"], body["holder_area"], body["urgency"]) == ("district", world.district.code, "urgent")
    assert body["timeline"][-1]["kind"] == "whistled"
    assert body["timeline"][-1]["data"]["department_ids"] == [world.dept_lead.pk]


def test_resolve_with_a_photo_by_multipart(
    world: Any, api_as: Api, django_capture_on_commit_callbacks: Any
) -> None:
    world.cat_a.fix_photo_required = True
    world.cat_a.save()
    case = make_case(world, state="in_progress", now=timezone.now())
    url = f"{CASES}{case.pk}/resolve/"
    refused = api_as("chief_x").post(url, {"note": "已修好"}, format="multipart")
    assert refused.status_code == 400
    assert "photos" in refused.json()["error"]["fields"]
    bad = api_as("chief_x").post(
        url, {"note": "已修好", "photos": [io.BytesIO(b"not an image")]}, format="multipart"
    )
    assert bad.status_code == 400
    assert case.photos.count() == 0
    with django_capture_on_commit_callbacks(execute=True):  # the photo's processing task, after commit
        ok = api_as("chief_x").post(url, {"note": "已修好", "photos": [jpeg()]}, format="multipart")
    assert ok.status_code == 200, ok.content
    # Answered before the photo was processed: the API shows no unprocessed photo.
    assert ok.json()["photos"] == [] and case.photos.get().kind == "fix"
    detail = api_as("chief_x").get(f"{CASES}{case.pk}/")
    assert [p["kind"] for p in detail.json()["photos"]] == ["fix"]


def test_feedback_by_api_is_a_return_call_once_per_round(world: Any, api_as: Api) -> None:
    case = make_case(world, state="awaiting_feedback", now=timezone.now())
    url = f"{CASES}{case.pk}/feedback/"
    payload = {"solved": "solved", "satisfaction": "basic", "comment": "电话回访"}
    assert api_as("community_worker_x").post(url, payload, format="json").status_code == 200
    feedback = Feedback.objects.get(case=case)
    assert (feedback.channel, feedback.recorded_by) == (FeedbackChannel.RETURN_CALL, world.community_worker_x)
    again = api_as("community_worker_x").post(url, payload, format="json")
    assert again.status_code == 409
    assert Feedback.objects.count() == 1


def test_return_visits_by_api_are_in_the_detail_and_filterable(world: Any, api_as: Api) -> None:
    case = make_case(world, state="awaiting_return_visit", now=timezone.now())
    untouched = make_case(world, state="awaiting_return_visit", now=timezone.now())
    client = api_as("community_worker_x")
    url = f"{CASES}{case.pk}/return-visit/"
    first = client.post(url, {**MISSED, "channel": "in_person"}, format="json")
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["state"] == "awaiting_return_visit" and body["light"] == "orange"
    assert "return-visit" in body["allowed_actions"] and "feedback" not in body["allowed_actions"]
    [attempt] = body["return_visits"]
    assert (attempt["channel"], attempt["reached"], attempt["solved"], attempt["note"], attempt["round"]) == (
        "in_person",
        False,
        None,
        "无人接听",
        1,
    )
    assert attempt["recorded_by"] == "community_worker_x"
    second = client.post(url, REACHED, format="json").json()
    assert second["state"] == "closed"
    assert [(v["reached"], v["solved"], v["satisfaction"], v["words"]) for v in second["return_visits"]] == [
        (False, None, None, ""),
        (True, "solved", "basic", "修好了"),
    ]
    assert second["feedbacks"][0]["channel"] == "return_call"
    assert second["timeline"][-2]["kind"] == "return_visit"
    assert second["timeline"][-2]["actor_label"] == "新华社区"
    # The filter: cases the community has return-visited, and those it has not.
    visited = client.get(CASES, {"return_visited": "true"}).json()["results"]
    assert [c["id"] for c in visited] == [case.pk]
    due = client.get(CASES, {"state": "awaiting_return_visit"}).json()["results"]
    assert [c["id"] for c in due] == [untouched.pk]
    assert untouched.pk in [c["id"] for c in client.get(CASES, {"return_visited": "false"}).json()["results"]]


def test_merge(world: Any, api_as: Api) -> None:
    main = make_case(world, now=timezone.now())
    dup = make_case(world, now=timezone.now())
    far = make_case(world, alley=world.other_alley, now=timezone.now())
    url = f"{CASES}{dup.pk}/merge/"
    assert api_as("chief_x").post(url, {"into": dup.pk}, format="json").status_code == 400
    assert api_as("chief_x").post(url, {"into": far.pk}, format="json").status_code == 400
    assert api_as("chief_x").post(url, {"into": "x"}, format="json").status_code == 400
    dup.refresh_from_db()
    assert dup.state == "submitted"
    response = api_as("chief_x").post(url, {"into": main.pk}, format="json")
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["merged_into_code"]) == ("merged", main.tracking_code)


def test_supervise_twice_is_a_conflict(world: Any, api_as: Api) -> None:
    case = make_case(world, state="in_progress", now=timezone.now())
    url = f"{CASES}{case.pk}/supervise/"
    assert api_as("street_worker").post(url, {}, format="json").status_code == 200
    response = api_as("street_worker").post(url, {}, format="json")
    assert response.status_code == 409
    assert CaseEvent.objects.filter(case=case, kind=EventKind.SUPERVISED).count() == 1


def test_department_cannot_act_on_the_case_itself(world: Any, api_as: Api, cases: dict[str, Case]) -> None:
    case = cases["dispatched"]
    before = snapshot(case)
    response = api_as("lead_contact").post(f"{CASES}{case.pk}/resolve/", {"note": "done"}, format="json")
    assert response.status_code == 403
    assert snapshot(case) == before


def test_unknown_case_is_404(world: Any, api_as: Api) -> None:
    assert api_as("admin").post(f"{CASES}999999/accept/", {}, format="json").status_code == 404
    assert api_as("admin").get(f"{CASES}999999/").status_code == 404


def test_messages_in_english_with_accept_language(world: Any, api_as: Api) -> None:
    case = make_case(world, state="closed", now=timezone.now())
    client = api_as("chief_x")
    zh = client.post(f"{CASES}{case.pk}/reject/", {}, format="json")
    en = client.post(f"{CASES}{case.pk}/reject/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert zh.json()["error"]["fields"]["reason"] == ["该字段是必填项。"]
    assert en.json()["error"]["fields"]["reason"] == ["This field is required."]
    assert zh.headers["Content-Language"] == "zh-hans"
    assert en.headers["Content-Language"] == "en"
    anonymous = APIClient().get(CASES, HTTP_ACCEPT_LANGUAGE="en")
    assert anonymous.json()["error"]["message"] == "Authentication credentials were not provided."
