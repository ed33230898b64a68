"""The API of joint meetings and standing mechanisms (issues/api/meeting_views.py): who may read and act,
the decisions through the table's routes, files, the whistle rule as the case API answers it, and
constant queries on the lists."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django.utils import timezone
from django.utils.module_loading import import_string
from rest_framework.test import APIClient

from alleys.choices import AreaLevel
from issues.api.meeting_views import MEETING_API, MeetingViewSet
from issues.choices import CaseState, Decision, MeetingState
from issues.meeting_views import MEETING_ACTIONS
from issues.models import JointMeeting, StandingMechanism, Whistle
from issues.workflow import API, MEETING_TRANSITIONS, STAFF
from issues.workflow.mechanisms import MechanismDraft
from issues.workflow.meetings import agenda_item_decide, meeting_agenda_add, meeting_hold, meeting_plan
from tests.factories import ACTORS, MONDAY, World, make_case

pytestmark = pytest.mark.django_db

Api = Callable[[str], APIClient]
T = AreaLevel
MEETINGS = "/api/v1/meetings/"
MECHANISMS = "/api/v1/mechanisms/"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def planned(world: World, *cases: Any, area: Any = None, actor: Any = None) -> JointMeeting:
    unit = actor or world.admin
    meeting = meeting_plan(actor=unit, area=area or world.community_x, date=MONDAY.date(), now=MONDAY)
    meeting.items.all().delete()
    for case in cases:
        meeting_agenda_add(meeting=meeting, actor=unit, case=case, now=MONDAY)
    return meeting


def future(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


# --- the table's rows and their faces ----------------------------------------------------------------


@pytest.mark.parametrize("name", list(MEETING_TRANSITIONS))
def test_each_meeting_row_has_its_service_and_faces(name: str) -> None:
    row = MEETING_TRANSITIONS[name]
    parameters = inspect.signature(import_string(row.service)).parameters
    assert [n.field for n in row.needs if n.field not in parameters] == []
    assert (name in MEETING_ACTIONS) == (STAFF in row.via)
    assert (name in MEETING_API) == (API in row.via)
    match = resolve(f"{MEETINGS}1/{name}/")
    assert match.func.cls is MeetingViewSet and "post" in match.func.actions  # type: ignore[attr-defined]


# --- who may -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [*ACTORS, "admin", "anonymous"])
def test_who_may_plan_a_communitys_meeting(world: World, api_as: Api, actor: str) -> None:
    response = api_as(actor).post(
        MEETINGS, {"area": world.community_x.code, "date": "2026-03-31"}, format="json"
    )
    expected = {"community_worker_x": 201, "admin": 201, "anonymous": 401}.get(actor, 403)
    assert response.status_code == expected, response.content
    if expected == 201:
        body = response.json()
        assert (body["level"], body["state"], body["title"]) == (
            "community",
            MeetingState.PLANNED,
            "2026年第1季度新华社区联席会议",
        )
    else:
        assert response.json()["error"]["code"] in ("permission_denied", "not_authenticated")


READERS = {"community_worker_x", "street_worker", "district_officer", "city_officer", "admin", "lead_contact"}


@pytest.mark.parametrize("actor", [*ACTORS, "admin"])
def test_who_reads_a_meeting(world: World, api_as: Api, actor: str) -> None:
    meeting = planned(world, make_case(world, tier=T.COMMUNITY))
    meeting_hold(meeting=meeting, actor=world.admin, present_departments=[world.dept_lead], now=MONDAY)
    client = api_as(actor)
    detail = client.get(f"{MEETINGS}{meeting.pk}/")
    ids = [m["id"] for m in client.get(MEETINGS).json()["results"]]
    reads = actor in READERS
    assert detail.status_code == (200 if reads else 404)
    assert (meeting.pk in ids) is reads


# --- through the table's routes ----------------------------------------------------------------------


def test_a_street_meeting_through_the_api_whistles_the_case_to_the_district(
    world: World, api_as: Api
) -> None:
    case = make_case(world, category=world.cat_c, tier=T.STREET, state=CaseState.ACCEPTED)
    client = api_as("street_worker")
    created = client.post(MEETINGS, {"area": world.street.code, "date": "2026-03-31"}, format="json")
    assert created.status_code == 201
    body = created.json()
    [item] = body["items"]
    assert item["case"] == case.pk and "held_here" in item["grounds"]
    url = f"{MEETINGS}{body['id']}/"
    early = client.post(
        f"{url}decide/", {"item": item["id"], "decision": "settle", "assignments": "x"}, format="json"
    )
    assert early.status_code == 409
    assert (
        api_as("community_worker_x").post(f"{url}hold/", {"attendees": "x"}, format="json").status_code == 404
    )
    assert (
        api_as("district_officer").post(f"{url}hold/", {"attendees": "x"}, format="json").status_code == 403
    )
    nobody = client.post(f"{url}hold/", {"minutes": "m"}, format="json")
    assert nobody.status_code == 400 and "present_departments" in nobody.json()["error"]["fields"]
    held = client.post(
        f"{url}hold/",
        {
            "present_departments": [world.dept_lead.pk],
            "present_areas": [world.community_x.code],
            "minutes": "研究",
        },
        format="json",
    )
    assert held.status_code == 200 and held.json()["state"] == MeetingState.HELD
    assert held.json()["present_areas"] == [world.community_x.code]
    unnamed = client.post(f"{url}decide/", {"item": item["id"], "decision": "whistle_up"}, format="json")
    assert unnamed.status_code == 400 and unnamed.json()["error"]["fields"] == {
        "departments": ["吹哨上报时请点名责任部门。"]
    }
    decided = client.post(
        f"{url}decide/",
        {"item": item["id"], "decision": "whistle_up", "departments": [world.dept_lead.pk]},
        format="json",
    )
    assert decided.status_code == 200, decided.content
    [answer] = decided.json()["items"]
    assert (answer["state"], answer["decision"], answer["departments"]) == (
        "decided",
        "whistle_up",
        [world.dept_lead.pk],
    )
    case.refresh_from_db()
    assert case.tier == T.DISTRICT
    again = client.post(
        f"{url}decide/", {"item": item["id"], "decision": "settle", "assignments": "x"}, format="json"
    )
    assert again.status_code == 409


def test_the_case_api_refuses_the_districts_whistle_without_its_meeting(world: World, api_as: Api) -> None:
    case = make_case(world, category=world.cat_d, tier=T.DISTRICT, state=CaseState.ACCEPTED)
    response = api_as("district_officer").post(
        f"/api/v1/cases/{case.pk}/whistle/", {"reason": "区直部门无法解决"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and "区委联席会议" in error["fields"]["decision"][0]
    english = api_as("district_officer").post(
        f"/api/v1/cases/{case.pk}/whistle/", {"reason": "x"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "joint meeting" in english.json()["error"]["message"]
    assert not Whistle.objects.filter(case=case).exists()


def test_agenda_add_and_remove(world: World, api_as: Api) -> None:
    meeting = planned(world)
    client = api_as("community_worker_x")
    url = f"{MEETINGS}{meeting.pk}/"
    case = make_case(world)
    both = client.post(f"{url}agenda-add/", {}, format="json")
    assert both.status_code == 400
    outside = make_case(world, alley=world.other_alley)
    assert client.post(f"{url}agenda-add/", {"case": outside.pk}, format="json").status_code == 400
    added = client.post(f"{url}agenda-add/", {"case": case.pk}, format="json")
    assert added.status_code == 200 and [i["case"] for i in added.json()["items"]] == [case.pk]
    item = added.json()["items"][0]["id"]
    assert client.post(f"{url}agenda-remove/", {"item": item}, format="json").json()["items"] == []
    assert client.post(f"{url}agenda-remove/", {"item": item}, format="json").status_code == 400


def test_a_mechanism_decision_and_its_keepers(world: World, api_as: Api) -> None:
    case = make_case(world, category=world.cat_c, tier=T.COMMUNITY)
    meeting = planned(world, case, actor=world.community_worker_x)
    meeting_hold(meeting=meeting, actor=world.community_worker_x, attendees="书记", now=MONDAY)
    item = meeting.items.get()
    decided = api_as("community_worker_x").post(
        f"{MEETINGS}{meeting.pk}/decide/",
        {
            "item": item.pk,
            "decision": "mechanism",
            "mechanism": {
                "title": "占道经营长效治理",
                "owner_department": world.dept_lead.pk,
                "review_on": future(90),
                "category_class": "C",
                "cooperating": [world.dept_coop.pk],
            },
        },
        format="json",
    )
    assert decided.status_code == 200, decided.content
    mechanism_id = decided.json()["items"][0]["mechanism"]
    body = api_as("lead_contact").get(f"{MECHANISMS}{mechanism_id}/").json()
    assert (body["category_class"], body["owner_department"], body["meeting"], body["cases"]) == (
        "C",
        world.dept_lead.pk,
        meeting.pk,
        [case.pk],
    )
    assert [r["due_on"] for r in body["reviews"]] == [future(90)]
    assert body["document_url"] is None
    url = f"{MECHANISMS}{mechanism_id}/"
    assert api_as("coop_contact").post(f"{url}review/", {"note": "好"}, format="json").status_code == 403
    assert api_as("far_contact").post(f"{url}review/", {"note": "好"}, format="json").status_code == 404
    reviewed = api_as("lead_contact").post(
        f"{url}review/", {"note": "执行良好", "next_review_on": future(300)}, format="json"
    )
    assert reviewed.status_code == 200
    assert [(r["due_on"], r["note"]) for r in reviewed.json()["reviews"]] == [
        (future(90), "执行良好"),
        (future(300), ""),
    ]
    document = api_as("lead_contact").post(
        f"{url}document/",
        {
            "document_title": "治理通知",
            "document_number": "鲤城管〔2026〕3号",
            "file": SimpleUploadedFile("a.pdf", PDF),
        },
        format="multipart",
    )
    assert document.status_code == 200, document.content
    link = document.json()["document_url"]
    assert link == f"{url}document-file/"
    got = api_as("chief_x").get(link)
    assert got.status_code == 200 and b"".join(got.streaming_content) == PDF
    assert api_as("community_worker_far").get(link).status_code == 404


def test_attachments_through_the_api(world: World, api_as: Api) -> None:
    meeting = planned(world, make_case(world, tier=T.COMMUNITY))
    url = f"{MEETINGS}{meeting.pk}/attachments/"
    refused = api_as("community_worker_x").post(
        url, {"file": SimpleUploadedFile("x.pdf", b"<svg onload=alert(1)>")}, format="multipart"
    )
    assert refused.status_code == 400 and "file" in refused.json()["error"]["fields"]
    assert (
        api_as("street_worker")
        .post(url, {"file": SimpleUploadedFile("x.pdf", PDF)}, format="multipart")
        .status_code
        == 403
    )
    created = api_as("community_worker_x").post(
        url, {"file": SimpleUploadedFile("纪要.pdf", PDF)}, format="multipart"
    )
    assert created.status_code == 201
    download = created.json()["url"]
    got = api_as("district_officer").get(download)
    assert got.status_code == 200 and got["Content-Type"] == "application/pdf"
    assert api_as("chief_x").get(download).status_code == 404
    assert api_as("district_officer").get(f"{MEETINGS}{meeting.pk}/attachments/999999/").status_code == 404


# --- constant queries --------------------------------------------------------------------------------


def _mechanism(world: World) -> None:
    case = make_case(world, category=world.cat_c, tier=T.COMMUNITY)
    meeting = planned(world, case)
    meeting_hold(meeting=meeting, actor=world.admin, present_departments=[world.dept_lead], now=MONDAY)
    agenda_item_decide(
        item=meeting.items.get(),
        actor=world.admin,
        decision=Decision.MECHANISM,
        mechanism=MechanismDraft(
            title="机制",
            owner_department=world.dept_lead,
            review_on=timezone.localdate() + dt.timedelta(days=30),
            category_type=world.cat_c,
            cooperating=(world.dept_coop,),
        ),
        now=MONDAY,
    )


@pytest.mark.parametrize("url", [MEETINGS, MECHANISMS])
def test_the_lists_run_a_constant_number_of_queries(world: World, api_as: Api, url: str) -> None:
    client = api_as("district_officer")
    counts = []
    for size in (5, 50):
        while StandingMechanism.objects.count() < size:
            _mechanism(world)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, {"limit": 200})
        assert response.status_code == 200 and response.json()["count"] >= size
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
