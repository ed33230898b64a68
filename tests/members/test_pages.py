"""The 双报到 staff pages (/staff/members/): who sees what, phones, forms that refuse bad input, query counts."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from members.choices import ClaimState, NeedKind, NeedState, RegistrationState
from members.models import Claim, Registration, ServiceNeed
from members.services import claim_record, claim_take, need_post
from tests.factories import RegistrationFactory
from tests.members.conftest import People

LIST = reverse("members:member-list")
NEW = reverse("members:registration-new")
NEEDS = reverse("members:need-list")
NEED_NEW = reverse("members:need-new")
CLAIMS = reverse("members:claim-list")
ORGS = reverse("members:organization-list")


def as_(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def post_need(people: People, **kw: Any) -> ServiceNeed:
    values: dict[str, Any] = {
        "user": people.community,
        "community": people.c1,
        "kind": NeedKind.SERVICE,
        "title": "周末清理楼道",
        "places": 3,
        "now": timezone.now(),
    }
    values.update(kw)
    return need_post(**values)


def test_phones_full_for_the_community_masked_for_others(client: Client, people: People) -> None:
    body = as_(client, people.community).get(LIST).content.decode()
    assert "13912345678" in body and "13787654321" in body
    for who in (people.street, people.district_org):
        body = as_(client, who).get(LIST).content.decode()
        assert "139****5678" in body and "13912345678" not in body
    detail = reverse("members:registration-detail", args=[people.member.pk])
    assert "139****5678" in as_(client, people.tax_contact).get(detail).content.decode()
    assert "13912345678" in as_(client, people.member_user).get(detail).content.decode()


def test_the_unit_contact_sees_its_own_members_only(client: Client, people: People) -> None:
    body = as_(client, people.tax_contact).get(LIST).content.decode()
    assert "王党员" in body and "李党员" not in body
    assert (
        as_(client, people.tax_contact)
        .get(reverse("members:registration-detail", args=[people.banker.pk]))
        .status_code
        == 404
    )
    orgs = client.get(ORGS).content.decode()
    assert "区税务局党支部" in orgs and "某银行支行党支部" not in orgs


def test_another_community_neither_sees_nor_acts(client: Client, people: People) -> None:
    pending = RegistrationFactory(community=people.c1, state=RegistrationState.PENDING)
    as_(client, people.other_community)
    assert "李党员" not in client.get(LIST).content.decode()
    url = reverse("members:registration-action", args=[pending.pk, "confirm"])
    assert client.post(url).status_code == 404
    pending.refresh_from_db()
    assert pending.state == RegistrationState.PENDING


def test_community_confirms_through_the_page(client: Client, people: People) -> None:
    pending = RegistrationFactory(community=people.c1, state=RegistrationState.PENDING)
    as_(client, people.community)
    client.post(reverse("members:registration-action", args=[pending.pk, "confirm"]))
    pending.refresh_from_db()
    assert pending.state == RegistrationState.CONFIRMED
    # The second click: a message, nothing changed.
    response = client.post(reverse("members:registration-action", args=[pending.pk, "confirm"]), follow=True)
    assert "不能确认报到" in response.content.decode()


def test_self_registration_needs_consent(client: Client, people: People) -> None:
    as_(client, people.stranger)
    data = {
        "full_name": "周党员",
        "phone": "13500001111",
        "organization": people.bank.pk,
        "community": people.c1.pk,
        "skills": "书法",
    }
    response = client.post(NEW, data)
    assert response.status_code == 400 and "请阅读并同意个人信息的使用说明" in response.content.decode()
    assert not Registration.objects.filter(phone="13500001111").exists()
    assert "周党员" in response.content.decode()  # kept as typed
    response = client.post(NEW, {**data, "consent": "on"})
    registration = Registration.objects.get(phone="13500001111")
    assert response.status_code == 302 and registration.user == people.stranger
    assert registration.state == RegistrationState.PENDING


def test_need_posted_claimed_and_recorded_through_the_pages(client: Client, people: People) -> None:
    as_(client, people.community)
    response = client.post(
        NEED_NEW, {"community": people.c1.pk, "kind": NeedKind.WISH, "title": "陪老人去医院", "places": 1}
    )
    need = ServiceNeed.objects.get()
    assert response.status_code == 302
    as_(client, people.member_user)
    response = client.post(reverse("members:need-action", args=[need.pk, "claim"]))
    claim = Claim.objects.get()
    assert response["Location"] == reverse("members:claim-detail", args=[claim.pk])
    need.refresh_from_db()
    assert need.state == NeedState.CLAIMED
    # A second claim from the same member: refused with a message.
    again = client.post(reverse("members:need-action", args=[need.pk, "claim"]), follow=True)
    assert Claim.objects.count() == 1 and "不能认领" in again.content.decode()
    record = reverse("members:claim-action", args=[claim.pk, "record"])
    fake = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    typed = {"hours": "2", "note": "陪同就诊", "served_on": timezone.localdate().isoformat()}
    response = client.post(record, {**typed, "photo": fake})
    assert response.status_code == 400 and "陪同就诊" in response.content.decode()
    claim.refresh_from_db()
    assert claim.state == ClaimState.CLAIMED
    response = client.post(record, {**typed, "hours": "-3"})
    assert response.status_code == 400
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 200, 10)).save(out, format="PNG")
    response = client.post(
        record, {**typed, "photo": SimpleUploadedFile("p.png", out.getvalue(), content_type="image/png")}
    )
    claim.refresh_from_db()
    assert response.status_code == 302 and claim.state == ClaimState.RECORDED and claim.photo
    assert client.get(reverse("members:claim-photo", args=[claim.pk]))["Content-Type"] == "image/jpeg"
    as_(client, people.community).post(reverse("members:claim-action", args=[claim.pk, "confirm"]))
    need.refresh_from_db()
    assert need.state == NeedState.DONE


def test_posting_is_the_communitys(client: Client, people: People) -> None:
    assert as_(client, people.street).get(NEED_NEW).status_code == 403
    assert as_(client, people.member_user).get(NEED_NEW).status_code == 403


def _counted(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", [LIST, NEEDS, CLAIMS, ORGS])
def test_lists_take_constant_queries(client: Client, people: People, url: str) -> None:
    def grow(n: int) -> None:
        for _ in range(n):
            member = RegistrationFactory(community=people.c1, organization=people.bank)
            need = post_need(people, places=1)
            claim = claim_take(need=need, registration=member, user=people.community, now=timezone.now())
            claim_record(
                claim=claim,
                user=people.community,
                hours="1.5",
                note="做了",
                served_on=timezone.localdate(),
                now=timezone.now(),
            )

    as_(client, people.community)
    grow(1)
    client.get(url)
    few = _counted(client, url)
    grow(4)
    assert _counted(client, url) == few


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("community", True),
        ("street", True),
        ("district_org", True),
        ("member_user", True),
        ("tax_contact", True),
        ("chief", False),
    ],
)
def test_nav_entry(client: Client, people: People, name: str, shown: bool) -> None:
    body = as_(client, getattr(people, name)).get(reverse("staff:home")).content.decode()
    assert (f'href="{LIST}"' in body) == shown


@pytest.mark.parametrize(
    "model", ["partyorganization", "registration", "serviceneed", "claim", "teammembership"]
)
def test_admin_scoped_and_read_only(client: Client, people: People, model: str) -> None:
    people.district_org.is_staff = True
    people.district_org.save()
    as_(client, people.district_org)
    assert client.get(reverse(f"admin:members_{model}_changelist")).status_code == 200
    add = client.get(reverse(f"admin:members_{model}_add")).status_code
    assert add == (200 if model == "partyorganization" else 403)
    body = as_(client, people.superuser).get(reverse(f"admin:members_{model}_changelist")).content.decode()
    assert "13912345678" not in body
