"""Every list (and the case detail) runs the same number of queries for 5 rows as for 50."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from alleys.choices import AreaLevel, Role
from alleys.models import Area
from issues.choices import EventKind, PhotoState
from issues.models import Case, CaseEvent, CasePhoto, DispatchOrder, PatrolLog
from issues.workflow import case_dispatch
from issues.workflow.orders import common_issue_create, extension_request, order_receive
from tests.factories import (
    AlleyFactory,
    CategoryClassFactory,
    CategoryTypeFactory,
    DepartmentFactory,
    grant,
    make_case,
)

pytestmark = pytest.mark.django_db

Api = Callable[[str], APIClient]
SIZES = (5, 50)
SEQ = itertools.count()  # unique names across the two rounds of one test
# The token with its user and the caller's scope (one query), COUNT(*), the page: the floor of every list.
LIST_FLOOR = 3


def queries(client: APIClient, url: str, **params: Any) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"limit": 200, **params})
    assert response.status_code == 200, response.content
    return len(captured), response.json()


def dispatched_cases(world: Any, n: int) -> list[Any]:
    out = []
    for i in range(n):
        case = make_case(world, tier=AreaLevel.DISTRICT, now=timezone.now() - dt.timedelta(minutes=i))
        out.append(
            case_dispatch(
                case=case, actor=world.district_officer, lead=world.dept_lead, cooperating=[world.dept_coop]
            )
        )
    return out


def alleys(world: Any, n: int) -> list[Area]:
    made = []
    for i in (next(SEQ) for _ in range(n)):
        alley = AlleyFactory(
            code=f"{world.community_x.code}{100 + i:03d}", name=f"新巷{i}", parent=world.community_x
        )
        chief = grant(type(world.chief_x).objects.create(username=f"chief-{i}"), Role.CHIEF, area=alley)
        grant(chief, Role.DEPUTY_CHIEF, area=world.alley_x)
        made.append(alley)
    return made


def evaluations(world: Any, n: int) -> list[Any]:
    from evaluation.models import DepartmentEvaluation

    case = Case.objects.filter(tier="district").first() or dispatched_cases(world, 1)[0]
    template = case.orders.order_by("pk").first()
    made = []
    for _ in range(n):
        order = DispatchOrder.objects.create(
            case=case,
            department=world.dept_lead,
            dispatcher_area=world.district,
            report_due=template.report_due,
            complete_due=template.complete_due,
            completed_at=timezone.now(),
            state="completed",
        )
        made.append(
            DepartmentEvaluation.objects.create(
                order=order,
                department=world.dept_lead,
                role="lead",
                community=world.community_x,
                case=case,
                report_timeliness_auto="on_time",
                report_timeliness="on_time",
                plan_quality=4,
                work_quality=4,
                cooperation=4,
                overall_score=80,
                opinion="好",
                item_completed_at=timezone.now(),
                evaluator=world.community_worker_x,
            )
        )
    return made


SETUPS: dict[str, tuple[str, str, Callable[[Any, int], Any]]] = {
    "evaluations": ("street_worker", "/api/v1/evaluations/", evaluations),
    "cases": ("district_officer", "/api/v1/cases/", lambda w, n: [make_case(w) for _ in range(n)]),
    "dispatched cases": ("district_officer", "/api/v1/cases/", dispatched_cases),
    "orders": ("district_officer", "/api/v1/orders/", dispatched_cases),
    "extensions": (
        "district_officer",
        "/api/v1/extensions/",
        lambda w, n: [
            extension_request(
                order=order_receive(order=o, actor=w.lead_contact),
                actor=w.lead_contact,
                reason="r",
                new_due=o.complete_due + dt.timedelta(days=5),
            )
            for o in DispatchOrder.objects.filter(
                pk__in=[c.orders.get(role="lead").pk for c in dispatched_cases(w, n)]
            )
        ],
    ),
    "common issues": (
        "district_officer",
        "/api/v1/common-issues/",
        lambda w, n: [
            common_issue_create(
                actor=w.district_officer, title=f"共性{i}", cases=[make_case(w), make_case(w)]
            )
            for i in range(n)
        ],
    ),
    "areas": ("street_worker", "/api/v1/areas/", alleys),
    "alleys with teams": ("street_worker", "/api/v1/alleys/", alleys),
    "departments": (
        "district_officer",
        "/api/v1/departments/",
        lambda w, n: [
            DepartmentFactory(code=f"X{i}", name=f"部门X{i}", area=w.district)
            for i in (next(SEQ) for _ in range(n))
        ],
    ),
    "categories": (
        "chief_x",
        "/api/v1/categories/",
        lambda w, n: [
            CategoryTypeFactory(
                code=f"Z{i:02d}", name=f"类型{i}", category_class=CategoryClassFactory(code="A")
            )
            for i in (next(SEQ) for _ in range(n))
        ],
    ),
    "patrols": (
        "community_worker_x",
        "/api/v1/patrols/",
        lambda w, n: [
            PatrolLog.objects.create(
                chief=w.chief_x, alley=w.alley_x, date=dt.date(2026, 1, 1) + dt.timedelta(days=i)
            )
            for i in (next(SEQ) for _ in range(n))
        ],
    ),
}


@pytest.mark.parametrize("name", list(SETUPS))
def test_lists_run_a_constant_number_of_queries(world: Any, api_as: Api, name: str) -> None:
    actor, url, make = SETUPS[name]
    client = api_as(actor)
    counts = []
    for size in SIZES:
        make(world, size - (SIZES[0] if counts else 0))
        count, body = queries(client, url)
        assert body["count"] >= size
        counts.append(count)
    assert counts[0] == counts[1], (
        f"{name}: {counts[0]} queries for {SIZES[0]} rows, {counts[1]} for {SIZES[1]}"
    )
    assert counts[0] <= LIST_FLOOR + 3, f"{name}: {counts[0]} queries"


def test_case_detail_runs_a_constant_number_of_queries(world: Any, api_as: Api) -> None:
    [case] = dispatched_cases(world, 1)
    client = api_as("district_officer")
    # The first request reads the reference rows (category, areas, department) into the process.
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    counts = []
    for extra in (5, 45):
        CaseEvent.objects.bulk_create(
            [
                CaseEvent(case=case, kind=EventKind.NOTE, note=f"n{i}", actor=world.chief_x)
                for i in range(extra)
            ]
        )
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/api/v1/cases/{case.pk}/")
        assert response.status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
    # token with scope, the case (with whether it has photos, orders, feedback), events, orders
    assert counts[0] <= 4


def test_case_detail_queries_only_the_relations_the_case_has(world: Any, api_as: Api) -> None:
    """A fresh case: no photos, orders or feedback to ask for (the case's row says so)."""
    case = make_case(world)
    CaseEvent.objects.create(case=case, kind=EventKind.NOTE, note="n", actor=world.chief_x)
    client = api_as("district_officer")
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200  # reference rows read once
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 200
    assert [e["note"] for e in response.json()["timeline"]] == ["n"]
    # token with scope, the case, events
    assert len(captured) <= 3, [q["sql"][:80] for q in captured]


def test_a_photo_still_processing_asks_for_no_photos(world: Any, api_as: Api) -> None:
    """A pending photo is shown to nobody yet, so the detail asks for photos only once one is processed."""
    case = make_case(world)
    photo = CasePhoto.objects.create(case=case, state=PhotoState.PENDING, upload="uploads/x.jpg")
    client = api_as("district_officer")
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200  # reference rows read once

    def detail() -> tuple[int, list[Any]]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/api/v1/cases/{case.pk}/")
        assert response.status_code == 200
        return len(captured), response.json()["photos"]

    pending = detail()
    assert pending[1] == []
    image = io.BytesIO()
    Image.new("RGB", (64, 48)).save(image, format="JPEG")
    name = default_storage.save("photos/x.jpg", ContentFile(image.getvalue()))
    CasePhoto.objects.filter(pk=photo.pk).update(state=PhotoState.READY, image=name, width=64, height=48)
    ready = detail()
    assert len(ready[1]) == 1
    assert ready[0] == pending[0] + 1  # the photos' query, once there is one to show


def test_open311_is_counted_in_its_own_tests() -> None:
    """GET requests is bounded in tests/api/test_open311.py (three queries whatever the size)."""
