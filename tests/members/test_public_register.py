"""The public 双报到 page: a member registers where they live with the number they verified by SMS code."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from members.choices import RegistrationState
from members.models import Registration
from members.services import registration_confirm
from tests.factories import verified_client

from .conftest import People

pytestmark = pytest.mark.django_db

PHONE = "13600001111"


def url(people: People) -> str:
    return reverse("member-register", args=[people.tree["d1s1c1a1"].code])


def post(people: People, **overrides: str) -> dict[str, str]:
    data = {"full_name": "赵党员", "organization": str(people.tax.pk), "skills": "电工", "consent": "on"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v}


def test_without_a_verified_number_the_page_asks_for_one_first(client: Client, people: People) -> None:
    response = client.get(url(people))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('phone-start')}?next={url(people).replace('/', '%2F')}"


def test_a_verified_number_registers_at_the_alleys_community_and_waits_for_it(
    client: Client, people: People
) -> None:
    verified_client(client, PHONE)
    page = client.get(url(people))
    html = page.content.decode()
    assert page.status_code == 200 and "136****1111" in html and PHONE not in html
    assert people.tax.name in html

    done = client.post(url(people), post(people))
    assert done.status_code == 302 and done["Location"] == reverse("member-status")
    registration = Registration.objects.get(phone=PHONE)
    alley = people.tree["d1s1c1a1"]
    assert (registration.community, registration.alley) == (people.c1, alley)
    assert registration.state == RegistrationState.PENDING
    assert registration.user is None and registration.entered_by is None
    assert "待确认" in client.get(reverse("member-status")).content.decode()

    # The home community confirms it like any other registration.
    registration_confirm(registration=registration, user=people.community, now=timezone.now())
    assert "已报到" in client.get(reverse("member-status")).content.decode()
    # With an active registration the form is not offered again.
    assert client.get(url(people))["Location"] == reverse("member-status")


def test_missing_consent_or_name_is_explained_and_nothing_is_saved(client: Client, people: People) -> None:
    verified_client(client, PHONE)
    response = client.post(url(people), post(people, consent="", full_name=""))
    html = response.content.decode()
    assert response.status_code == 400
    assert "请阅读并同意个人信息的使用说明" in html and "请填写姓名" in html
    assert 'value="电工"' in html  # what was typed stays
    assert not Registration.objects.filter(phone=PHONE).exists()


def test_a_number_already_registered_elsewhere_is_refused(client: Client, people: People) -> None:
    verified_client(client, people.banker.phone)
    assert client.get(url(people))["Location"] == reverse("member-status")
    assert Registration.objects.filter(phone=people.banker.phone).count() == 1


def test_an_unknown_alley_is_not_found_and_an_empty_status_says_how(client: Client, people: People) -> None:
    verified_client(client, PHONE)
    assert client.get(reverse("member-register", args=["999999999999999"])).status_code == 404
    assert "还没有报到记录" in client.get(reverse("member-status")).content.decode()


def test_a_markup_name_is_refused(client: Client, people: People) -> None:
    verified_client(client, PHONE)
    response = client.post(url(people), post(people, full_name="<b>x</b>"))
    assert response.status_code == 400
    assert not Registration.objects.filter(phone=PHONE).exists()
