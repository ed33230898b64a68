"""The hand-written case representations answer exactly what DRF's generic rendering answered.

``issues/api/serializers.py`` writes the case list and detail by hand (the generic walk over
the declared fields was most of the detail's cost). The declared fields still document the
API, so each case here is also rendered the generic way, from the detail's original
queryset, and the bytes must be the same: same keys in the same order, same values, same
formats, in Chinese and in English.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.utils import timezone, translation
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from alleys.choices import AreaLevel
from alleys.models import StaffProfile
from issues.api import serializers as api_serializers
from issues.choices import (
    CaseState,
    EventKind,
    FeedbackChannel,
    FeedbackSolved,
    PhotoKind,
    PhotoState,
    Satisfaction,
)
from issues.models import Case, CaseEvent, CasePhoto, DispatchOrder, Feedback, ReturnVisit
from issues.workflow import case_accept, case_dispatch, case_reject, case_return_visit, case_submit
from tests.factories import make_case

pytestmark = pytest.mark.django_db

Api = Callable[[str], APIClient]
HAND_WRITTEN = (
    api_serializers.CaseListSerializer,
    api_serializers.CaseEventSerializer,
    api_serializers.CasePhotoSerializer,
    api_serializers.FeedbackSerializer,
    api_serializers.ReturnVisitSerializer,
)


@pytest.fixture
def generic(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Any]]:
    """A context in which the serializers render the generic DRF way (from the declared fields)."""
    import contextlib

    @contextlib.contextmanager
    def use() -> Iterator[None]:
        with monkeypatch.context() as patch:
            for serializer in HAND_WRITTEN:
                patch.setattr(serializer, "to_representation", serializers.Serializer.to_representation)
            yield

    yield use


def original_detail(pk: int, user: Any) -> Case:
    """The case as the detail view read it before it was hand-written (every relation prefetched)."""
    events = CaseEvent.objects.select_related("actor__staff_profile").order_by("at", "id")
    orders = DispatchOrder.objects.select_related("department").order_by("dispatched_at", "id")
    visits = ReturnVisit.objects.select_related("recorded_by__staff_profile", "feedback").order_by(
        "visited_at", "id"
    )
    return (
        Case.objects.select_related(
            "category", "category__category_class", "alley", "holder_area", "lead_department", "merged_into"
        )
        .prefetch_related(
            Prefetch("events", queryset=events),
            "photos",
            Prefetch("orders", queryset=orders),
            "feedbacks",
            Prefetch("return_visits", queryset=visits),
        )
        .get(pk=pk)
    )


def profiled_community(world: Any) -> Any:
    """The community worker of X with a profile name (the API shows it as who visited)."""
    StaffProfile.objects.update_or_create(user=world.community_worker_x, defaults={"full_name": "陈社工"})
    return world.community_worker_x


@pytest.fixture
def varied(world: Any) -> dict[str, Case]:
    """Cases in every shape the detail shows: fresh, worked on, dispatched, with photos and feedback, merged."""
    user_model = get_user_model()
    named = user_model.objects.create(username="wang", first_name="五", last_name="王")
    profiled = user_model.objects.create(username="li")
    StaffProfile.objects.create(user=profiled, full_name="李四")

    fresh = case_submit(
        category=world.cat_a,
        alley=world.alley_x,
        description="路灯坏了 13912345678",
        reporter_name="李四",
        reporter_phone="13712345678",
        address_detail="金鱼巷 3 号",
        latitude=Decimal("24.9123"),
        longitude=Decimal("118.5871"),
        consent=True,
    )

    worked = case_submit(category=world.cat_a, alley=world.alley_y, description="垃圾没人收")
    case_accept(case=worked, actor=world.chief_y, note="马上去看")
    for actor, note in ((named, "名字"), (profiled, "档案"), (None, "系统")):
        CaseEvent.objects.create(case=worked, kind=EventKind.NOTE, note=note, public=False, actor=actor)
    photo_event = worked.events.order_by("id").last()
    for kind, public in ((PhotoKind.REPORT, False), (PhotoKind.FIX, True)):
        CasePhoto.objects.create(
            case=worked,
            event=photo_event,
            kind=kind,
            image="cases/x.jpg",
            state=PhotoState.READY,
            width=640,
            height=480,
            is_public=public,
        )
    for round_, solved in ((1, FeedbackSolved.PARTLY), (2, FeedbackSolved.SOLVED)):
        Feedback.objects.create(
            case=worked,
            round=round_,
            solved=solved,
            satisfaction=Satisfaction.SATISFIED,
            comment="好",
            channel=FeedbackChannel.RETURN_CALL,
            created_at=timezone.now() - dt.timedelta(days=3 - round_),
        )

    at_district = make_case(world, alley=world.alley_x, tier=AreaLevel.DISTRICT)
    dispatched = case_dispatch(
        case=at_district, actor=world.district_officer, lead=world.dept_lead, cooperating=[world.dept_coop]
    )

    rejected = case_reject(
        case=make_case(world, alley=world.alley_x), actor=world.chief_x, reason="不属于受理范围"
    )
    merged = make_case(world, alley=world.alley_x, state=CaseState.MERGED, merged_into=fresh)
    revisited = make_case(world, alley=world.alley_x, state=CaseState.AWAITING_RETURN_VISIT)
    case_return_visit(
        case=revisited, actor=profiled_community(world), channel="phone", reached=False, note="关机"
    )
    case_return_visit(
        case=revisited,
        actor=world.community_worker_x,
        channel="in_person",
        reached=True,
        solved=FeedbackSolved.PARTLY,
        satisfaction=Satisfaction.BASIC,
        words="还有一点问题",
    )
    return {
        "revisited": revisited,
        "fresh": fresh,
        "worked": worked,
        "dispatched": dispatched,
        "rejected": rejected,
        "merged": merged,
    }


@pytest.mark.parametrize(
    "actor", ["chief_x", "community_worker_y", "district_officer", "lead_contact", "admin"]
)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_detail_is_byte_for_byte_the_generic_rendering(
    world: Any, api_as: Api, varied: dict[str, Case], generic: Callable[[], Any], actor: str, language: str
) -> None:
    client = api_as(actor)
    user = world.actor(actor)
    compared = 0
    for case in varied.values():
        response = client.get(f"/api/v1/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE=language)
        if response.status_code == 404:  # outside this actor's scope
            continue
        assert response.status_code == 200, response.content
        now = timezone.now()
        with generic(), translation.override(language):
            expected = api_serializers.CaseDetailSerializer(
                original_detail(case.pk, user), context={"request": SimpleNamespace(user=user), "now": now}
            ).data
            rendered = JSONRenderer().render(expected)
        assert response.content.decode() == rendered.decode(), case
        compared += 1
    assert compared >= 1


def test_list_is_byte_for_byte_the_generic_rendering(
    world: Any, api_as: Api, varied: dict[str, Case], generic: Callable[[], Any]
) -> None:
    response = api_as("admin").get("/api/v1/cases/", {"limit": 200}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == len(varied)
    with generic(), translation.override("en"):
        cases = Case.objects.select_related(
            "category", "category__category_class", "alley", "holder_area", "lead_department"
        ).order_by("-created_at", "-id")
        expected = api_serializers.CaseListSerializer(cases, many=True, context={"now": timezone.now()}).data
    assert JSONRenderer().render(rows) == JSONRenderer().render(expected)


def test_every_declared_field_is_written(varied: dict[str, Case]) -> None:
    """The declared fields (what the schema documents) and the hand-written keys are the same."""
    case = varied["worked"]
    request = SimpleNamespace(user=None)
    detail = api_serializers.CaseDetailSerializer(case, context={"request": request})
    assert list(detail.data) == list(detail.fields)
    listed = api_serializers.CaseListSerializer(case)
    assert list(listed.data) == list(listed.fields)
    event = case.events.first()
    assert list(api_serializers.CaseEventSerializer(event).data) == list(
        api_serializers.CaseEventSerializer(event).fields
    )
