"""The public board: counts of solved and on-time cases, recent cases anonymised, public photos only."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pytest_django import DjangoAssertNumQueries

from issues.choices import CaseState, PhotoKind, PhotoState
from issues.models import Case, CasePhoto

from .helpers import CHIEF_NAME, Place, case_in, jpeg, text_of

pytestmark = pytest.mark.django_db

SECRET_DESCRIPTION = "我家门口，张阿姨家的狗天天叫"


def board_url(code: str) -> str:
    return f"{reverse('public-board')}?area={code}"


def photo(case: Case, *, public: bool, size: tuple[int, int] = (64, 48)) -> CasePhoto:
    return CasePhoto.objects.create(
        case=case,
        kind=PhotoKind.FIX,
        image=ContentFile(jpeg(size=size).read(), name="p.jpg"),
        is_public=public,
        state=PhotoState.READY,  # processed, as the issues.process_photo task leaves it
    )


def recent(place: Place, state: str, **fields: object) -> Case:
    created = timezone.now() - dt.timedelta(days=3)
    case = case_in(place.world, state=state, now=created, description=SECRET_DESCRIPTION, **fields)
    if state == CaseState.CLOSED:
        case.resolved_at = case.closed_at = created + dt.timedelta(hours=2)
        case.save()
    return case


def test_the_board_never_shows_who_reported_what_or_where(client: Client, place: Place) -> None:
    case = recent(place, CaseState.IN_PROGRESS, address_detail="金鱼巷17号后门")
    hidden = photo(case, public=False)
    shown = photo(case, public=True)
    html = text_of(client.get(board_url(place.alley.code)))
    assert "路灯不亮" in html and "金鱼巷" in html and 'class="light light-yellow"' in html
    for secret in ("张三", "13900001234", "139****1234", "金鱼巷17号后门", SECRET_DESCRIPTION, CHIEF_NAME):
        assert secret not in html
    assert case.tracking_code not in html, "a code on the board would let anyone give feedback"
    assert reverse("public-photo-thumb", kwargs={"pk": shown.pk}) in html
    assert f"/photo/{hidden.pk}/" not in html


def test_only_public_photos_are_served(client: Client, place: Place) -> None:
    case = recent(place, CaseState.CLOSED)
    hidden = photo(case, public=False)
    shown = photo(case, public=True, size=(1600, 1200))
    for name in ("public-photo", "public-photo-thumb"):
        assert client.get(reverse(name, kwargs={"pk": hidden.pk})).status_code == 404
        assert client.get(reverse(name, kwargs={"pk": 999999})).status_code == 404
    full = client.get(reverse("public-photo", kwargs={"pk": shown.pk}))
    assert full.status_code == 200 and full["Content-Type"] == "image/jpeg"
    thumb = client.get(reverse("public-photo-thumb", kwargs={"pk": shown.pk}))
    assert thumb.status_code == 200
    assert Image.open(io.BytesIO(b"".join(thumb.streaming_content))).size == (480, 360)  # type: ignore[attr-defined]
    # Made once, then served from storage.
    again = client.get(reverse("public-photo-thumb", kwargs={"pk": shown.pk}))
    assert again.status_code == 200


def test_the_counts_of_received_solved_and_on_time(client: Client, place: Place) -> None:
    world = place.world
    on_time = recent(place, CaseState.CLOSED)
    late = recent(place, CaseState.AWAITING_FEEDBACK)
    late.resolved_at = late.resolve_due + dt.timedelta(days=1)
    late.save()
    recent(place, CaseState.IN_PROGRESS)
    recent(place, CaseState.REJECTED)
    target = recent(place, CaseState.SUBMITTED)
    merged = recent(place, CaseState.SUBMITTED)
    Case.objects.filter(pk=merged.pk).update(state=CaseState.MERGED, merged_into=target)
    recent(place, CaseState.IN_PROGRESS, alley=world.alley_y)  # another community: not on this board
    old = case_in(world, state=CaseState.IN_PROGRESS, now=timezone.now() - dt.timedelta(days=400))
    assert on_time.resolved_at and on_time.resolve_due and on_time.resolved_at <= on_time.resolve_due

    response = client.get(board_url(world.community_x.code))
    counts = response.context["board"].counts
    assert (counts.received, counts.solved, counts.on_time, counts.open) == (5, 2, 1, 2)
    assert counts.on_time_percent == 50
    html = text_of(response)
    assert "（50%）" in html
    listed = {c.pk for c in response.context["board"].cases}
    assert merged.pk not in listed and old.pk in listed

    street = client.get(board_url(world.street.code)).context["board"].counts
    assert street.received == 6


def test_a_case_awaiting_its_return_visit_is_solved_and_shows_the_orange_light(
    client: Client, place: Place
) -> None:
    # As the tracking page: verified (solved, counted like one awaiting feedback), the orange light by name.
    recent(place, CaseState.AWAITING_RETURN_VISIT)
    recent(place, CaseState.AWAITING_FEEDBACK)
    response = client.get(board_url(place.world.community_x.code))
    counts = response.context["board"].counts
    assert (counts.received, counts.solved, counts.open) == (2, 2, 0)
    html = text_of(response)
    assert html.count('class="light light-orange"') == 2 and html.count("橘灯：处理完结，等待回访") == 2
    assert ">待回访<" not in html  # the staff name of the state stays on the staff pages


def test_the_board_runs_a_constant_number_of_queries(
    client: Client, place: Place, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    first = recent(place, CaseState.CLOSED)
    photo(first, public=True)
    with django_assert_max_num_queries(6):
        assert client.get(board_url(place.world.street.code)).status_code == 200
    for _ in range(20):
        case = recent(place, CaseState.CLOSED)
        photo(case, public=True)
        photo(case, public=False)
    with django_assert_max_num_queries(6):
        assert client.get(board_url(place.world.street.code)).status_code == 200


def test_the_board_leads_down_the_tree(client: Client, place: Place) -> None:
    world = place.world
    html = text_of(client.get(reverse("public-board")))
    assert "开元街道" in html and board_url(world.street.code).replace("&", "&amp;") in html
    html = text_of(client.get(board_url(world.street.code)))
    assert "各社区公示栏" in html and "新华社区" in html and "西街社区" in html
    html = text_of(client.get(board_url(world.community_x.code)))
    assert "各街巷公示栏" in html and board_url(world.alley_x.code) in html
    html = text_of(client.get(board_url(world.alley_x.code)))
    assert "在这条街巷反映问题" in html and f"/a/{world.alley_x.code}/" in html


@pytest.mark.parametrize("code", ["3505", "350502", "999999999", "abc", "<b>"])
def test_an_unknown_or_too_wide_area_offers_the_chooser(client: Client, place: Place, code: str) -> None:
    response = client.get(board_url(code))
    assert response.status_code == 404
    html = text_of(response)
    assert "没有找到这个区域" in html and "开元街道" in html
