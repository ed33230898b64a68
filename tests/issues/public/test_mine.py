"""我的反映 (/mine/): a verified number sees every case filed with it, and nobody else's; and the form's SMS opt-in."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from issues.models import Case
from participation import phones
from participation.views import verify_url
from tests.factories import MONDAY, World, make_case

from .helpers import Place, post_report, text_of

pytestmark = pytest.mark.django_db

MINE = "13812345678"
OTHER = "13987654321"


def verified_client(number: str, *, now: dt.datetime | None = None) -> Client:
    """A browser session that verified ``number`` (as participation.views.phone_code leaves it)."""
    client = Client()
    session = client.session
    until = (now or timezone.now()) + dt.timedelta(minutes=30)
    session[phones.SESSION_KEY] = {"phone": number, "until": until.timestamp()}
    session.save()
    return client


def cases_for(world: World, phone: str, n: int, *, start: dt.datetime = MONDAY) -> list[Case]:
    made = []
    for i in range(n):
        case = make_case(world, alley=world.alley_x if i % 2 else world.alley_y)
        Case.objects.filter(pk=case.pk).update(reporter_phone=phone, created_at=start + dt.timedelta(hours=i))
        case.refresh_from_db()
        made.append(case)
    return made


def test_without_a_verified_number_the_page_explains_and_links_to_the_verification(
    client: Client, world: World
) -> None:
    cases_for(world, MINE, 1)
    html = text_of(client.get(reverse("public-mine")))
    assert "验证手机号" in html
    assert verify_url("/mine/").replace("&", "&amp;") in html
    assert 'aria-current="page">我的反映' in html
    assert not re.search(r"/track/[A-Z0-9]+/", html)


def test_only_the_verified_numbers_cases_newest_first(world: World) -> None:
    mine = cases_for(world, MINE, 3)
    others = cases_for(world, OTHER, 2)
    landline = cases_for(world, "059522181234", 1)
    html = text_of(verified_client(MINE).get(reverse("public-mine")))
    links = re.findall(r'href="/track/([A-Z0-9]+)/"', html)
    assert links == [c.tracking_code for c in reversed(mine)]
    for case in [*others, *landline]:
        assert case.tracking_code not in html
    assert "138****5678" in html and "共 3 件" in html
    assert world.alley_x.name in html and world.alley_y.name in html
    assert "light light-" in html
    # The way out: a POST to forget the number, coming back here.
    assert f'action="{reverse("phone-forget")}"' in html and 'name="next" value="/mine/"' in html


def test_a_lapsed_verification_asks_again(world: World) -> None:
    cases_for(world, MINE, 1)
    client = verified_client(MINE, now=timezone.now() - dt.timedelta(hours=1))
    html = text_of(client.get(reverse("public-mine")))
    assert not re.search(r"/track/[A-Z0-9]+/", html)
    assert verify_url("/mine/").replace("&", "&amp;") in html


def test_forgetting_the_number_ends_the_list(world: World) -> None:
    [case] = cases_for(world, MINE, 1)
    client = verified_client(MINE)
    assert case.tracking_code in text_of(client.get(reverse("public-mine")))
    response = client.post(reverse("phone-forget"), {"next": "/mine/"})
    assert response.status_code == 302 and response["Location"] == "/mine/"
    assert case.tracking_code not in text_of(client.get("/mine/"))


def test_pages_of_twenty_with_a_constant_number_of_queries(
    world: World, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    cases_for(world, MINE, 3)
    client = verified_client(MINE)
    client.get(reverse("public-mine"))  # warm the process's reference copies
    with django_assert_max_num_queries(3):  # the session, the count, the page
        small = client.get(reverse("public-mine"))
    cases_for(world, MINE, 22, start=MONDAY + dt.timedelta(days=1))
    with django_assert_max_num_queries(3):
        first = client.get(reverse("public-mine"))
    assert small.status_code == first.status_code == 200
    assert len(re.findall(r'href="/track/[A-Z0-9]', text_of(first))) == 20
    second = text_of(client.get(reverse("public-mine"), {"page": 2}))
    assert len(re.findall(r'href="/track/[A-Z0-9]', second)) == 5
    assert "第 2 / 2 页" in second


# --- the report form's opt-in ---------------------------------------------------------------------


def test_the_opt_in_is_offered_unticked(client: Client, place: Place) -> None:
    html = text_of(client.get(place.form_url))
    assert re.search(
        r'<input type="checkbox" name="sms_opt_in" id="id_sms_opt_in" aria-describedby="sms-hint">', html
    )
    assert "办理进展短信通知我" in html


def test_a_mobile_number_with_the_box_ticked_is_stored(client: Client, place: Place) -> None:
    assert post_report(client, place, reporter_phone="138 1234 5678", sms_opt_in="on").status_code == 302
    case = Case.objects.get()
    assert (case.reporter_phone, case.sms_opt_in) == (MINE, True)


def test_unticked_nothing_is_asked(client: Client, place: Place) -> None:
    assert post_report(client, place, reporter_phone=MINE).status_code == 302
    assert Case.objects.get().sms_opt_in is False


@pytest.mark.parametrize("phone", ["", "0595-22181234"])
def test_ticked_without_a_mobile_number_is_refused_with_a_message(
    client: Client, place: Place, phone: str
) -> None:
    response = post_report(client, place, reporter_phone=phone, sms_opt_in="on")
    html = text_of(response)
    assert "短信只能发到手机" in html
    assert 'id="sms_opt_in-error1"' in html
    assert "巷口第二根路灯不亮三天了" in html
    assert not Case.objects.exists()
