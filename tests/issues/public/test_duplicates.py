"""The "already reported?" step of the residents' form: the check by GET, the step before filing, no one's data."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from issues.choices import CaseState
from issues.models import Case
from issues.public.views import DUPLICATES_SEEN
from tests.factories import make_case

from .helpers import (
    REPORTER_ADDRESS,
    REPORTER_NAME,
    REPORTER_PHONE,
    Place,
    jpeg,
    report_data,
    text_of,
    token_of,
)

pytestmark = pytest.mark.django_db

OTHERS_WORDS = "井盖松动，昨晚有人差点摔倒"
OTHERS_NAME = "王大妈"
OTHERS_PHONE = "13711112222"
OTHERS_ADDRESS = "金鱼巷3号门口"
MINE = "巷口第二根路灯不亮三天了，晚上很黑。"


def someone_elses(place: Place, *, days: float = 2, **fields: object) -> Case:
    """An open lamp case in the alley filed by another resident, with everything private filled in."""
    return make_case(
        place.world,
        category=place.lamp,
        now=timezone.now() - dt.timedelta(days=days),
        description=OTHERS_WORDS,
        reporter_name=OTHERS_NAME,
        reporter_phone=OTHERS_PHONE,
        address_detail=OTHERS_ADDRESS,
        **fields,
    )


def first_post(place: Place, **overrides: object) -> dict[str, object]:
    """A report as posted by a resident who skipped the check above the form."""
    return report_data(place, **{DUPLICATES_SEEN: None, **overrides})


def assert_private(html: str, case: Case) -> None:
    for secret in (
        case.tracking_code,
        OTHERS_WORDS,
        OTHERS_NAME,
        OTHERS_PHONE,
        OTHERS_PHONE[-4:],
        OTHERS_ADDRESS,
    ):
        assert secret not in html, secret
    assert reverse("public-track-case", kwargs={"code": case.tracking_code}) not in html


def test_the_form_offers_the_check_by_get_without_script(client: Client, place: Place) -> None:
    html = text_of(client.get(place.form_url))

    assert "已经有人反映了吗？" in html
    check = re.search(r'<form method="get" action="([^"]+)">(.*?)</form>', html, re.S)
    assert check is not None
    assert check.group(1) == place.form_url
    assert 'name="category"' in check.group(2)


def test_the_check_lists_open_cases_of_the_type_with_their_light_and_nothing_private(
    client: Client, place: Place
) -> None:
    case = someone_elses(place, state=CaseState.IN_PROGRESS)
    make_case(place.world, category=place.noise, now=timezone.now())  # another type: not shown

    response = client.get(place.form_url, {"category": place.lamp.pk})
    html = text_of(response)

    assert response.status_code == 200
    assert "近 14 天，这条街巷有以下“" in html
    assert 'class="light light-yellow"' in html
    assert html.count('id="duplicate-') == 1
    board = f"{reverse('public-board')}?area={place.alley.code}#case-{case.pk}"
    assert f'href="{board}"' in html and "关注这一件" in html
    assert_private(html, case)
    # The lamp tile is chosen, and posting this form skips the step: it was seen.
    assert f'value="{place.lamp.pk}" checked' in html
    assert f'name="{DUPLICATES_SEEN}" value="{place.lamp.pk}"' in html
    assert "仍然提交" in html


def test_the_board_link_finds_the_case(client: Client, place: Place) -> None:
    case = someone_elses(place)

    html = text_of(client.get(reverse("public-board"), {"area": place.alley.code}))

    assert f'id="case-{case.pk}"' in html


def test_the_check_says_so_when_nobody_reported_it(client: Client, place: Place) -> None:
    html = text_of(client.get(place.form_url, {"category": place.lamp.pk}))

    assert "没有正在办理的“" in html
    assert "仍然提交" not in html


def test_a_category_from_the_list_chooses_other_and_the_list(client: Client, place: Place) -> None:
    html = text_of(client.get(place.form_url, {"category": place.gas.pk}))

    assert 'value="other" checked' in html
    assert f'value="{place.gas.pk}" selected' in html


def test_an_unknown_category_is_just_the_form(client: Client, place: Place) -> None:
    for value in ("nope", str(place.retired.pk), "999999"):
        response = client.get(place.form_url, {"category": value})
        assert response.status_code == 200
        assert '<form method="get"' in text_of(response)


def test_submitting_without_the_check_asks_first_and_keeps_everything_typed(
    client: Client, place: Place
) -> None:
    case = someone_elses(place)

    response = client.post(place.form_url, first_post(place))
    html = text_of(response)

    assert response.status_code == 200
    assert Case.objects.count() == 1, "nothing filed yet"
    assert "这条街巷最近已有人反映同类问题" in html
    assert "关注这一件" in html and "仍然提交" in html
    for typed in (MINE, REPORTER_NAME, REPORTER_PHONE, REPORTER_ADDRESS):
        assert typed in html
    assert f'value="{place.lamp.pk}" checked' in html
    assert_private(html, case)
    assert 'id="repick"' not in html, "no photos were chosen"

    # 仍然提交: the same form again, with the same one-time token, files one case.
    token = token_of(response)
    again = client.post(place.form_url, report_data(place, submission=token))
    assert again.status_code == 302
    assert Case.objects.count() == 2
    # A repeat of that post gets the receipt of the case it filed, not a third case.
    assert client.post(place.form_url, report_data(place, submission=token)).status_code == 302
    assert Case.objects.count() == 2


def test_the_step_says_photos_must_be_chosen_again(client: Client, place: Place) -> None:
    someone_elses(place)

    html = text_of(client.post(place.form_url, {**first_post(place), "photos": [jpeg()]}))

    assert "这条街巷最近已有人反映同类问题" in html
    assert 'id="repick"' in html
    assert Case.objects.count() == 1


def test_no_step_without_candidates(client: Client, place: Place) -> None:
    someone_elses(place, days=15)
    someone_elses(place, state=CaseState.CLOSED)
    make_case(place.world, alley=place.world.alley_y, category=place.lamp, now=timezone.now())

    assert client.post(place.form_url, first_post(place)).status_code == 302
    assert Case.objects.count() == 4


def test_seen_for_another_category_still_asks(client: Client, place: Place) -> None:
    someone_elses(place)

    html = text_of(client.post(place.form_url, first_post(place, **{DUPLICATES_SEEN: str(place.noise.pk)})))

    assert "这条街巷最近已有人反映同类问题" in html
    assert Case.objects.count() == 1


def test_the_check_runs_a_fixed_number_of_queries(
    client: Client, place: Place, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    someone_elses(place)
    client.get(place.form_url, {"category": place.lamp.pk})  # warm the process's reference copies
    with django_assert_num_queries(2) as one:
        client.get(place.form_url, {"category": place.lamp.pk})
    for _ in range(5):
        someone_elses(place)
    with django_assert_num_queries(len(one.captured_queries)):
        html = text_of(client.get(place.form_url, {"category": place.lamp.pk}))
    assert html.count('id="duplicate-') == 6


def test_a_checked_form_with_a_mistake_keeps_the_check(client: Client, place: Place) -> None:
    someone_elses(place)

    response = client.post(place.form_url, report_data(place, description=""))
    html = text_of(response)

    assert "请" in html and Case.objects.count() == 1
    assert f'name="{DUPLICATES_SEEN}" value="{place.lamp.pk}"' in html
    assert "关注这一件" in html
    # Corrected, it files without asking again.
    fixed = client.post(place.form_url, report_data(place, submission=token_of(response)))
    assert fixed.status_code == 302
    assert Case.objects.count() == 2


def test_a_located_report_is_asked_about_an_open_case_within_100_m_in_the_next_alley(
    client: Client, place: Place
) -> None:
    neighbour = make_case(
        place.world,
        alley=place.world.alley_y,
        category=place.lamp,
        now=timezone.now() - dt.timedelta(days=1),
        latitude="24.912945",
        longitude="118.587654",
        reporter_phone=OTHERS_PHONE,
    )
    located = first_post(place, share_location="on", latitude="24.912345", longitude="118.587654")

    html = text_of(client.post(place.form_url, located))

    assert Case.objects.count() == 1, "nothing filed yet"
    assert "这条街巷或您定位处 100 米内" in html
    assert f"{place.world.alley_y.name}（附近）" in html
    assert f"?area={place.world.alley_y.code}#case-{neighbour.pk}" in html
    assert_private(html, neighbour)
    # Without a location the next alley's case is no candidate: filed at once.
    assert client.post(place.form_url, first_post(place)).status_code == 302
