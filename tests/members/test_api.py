"""The 双报到 API (/api/v1/member-*): scoping, phones, transitions through the services, bad input refused."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from members.choices import ClaimState, NeedKind, NeedState, RegistrationState
from members.models import Claim, Registration, ServiceNeed
from members.services import claim_take, need_post
from tests.factories import RegistrationFactory
from tests.members.conftest import People

REG = "/api/v1/member-registrations/"
NEEDS = "/api/v1/member-needs/"
CLAIMS = "/api/v1/member-claims/"


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def need(people: People, places: int = 1) -> ServiceNeed:
    return need_post(
        user=people.community,
        community=people.c1,
        kind=NeedKind.WISH,
        title="代买药品",
        places=places,
        now=timezone.now(),
    )


def test_list_scoped_and_phones_masked(people: People) -> None:
    rows = api(people.community).get(REG).json()["results"]
    assert {r["phone"] for r in rows} == {"13912345678", "13787654321"}
    rows = api(people.street).get(REG).json()["results"]
    assert {r["phone"] for r in rows} == {"139****5678", "137****4321"}
    rows = api(people.tax_contact).get(REG).json()["results"]
    assert [r["full_name"] for r in rows] == ["王党员"] and rows[0]["phone"] == "139****5678"
    assert api(people.other_community).get(REG).json()["results"] == []
    assert APIClient().get(REG).status_code in (401, 403)


def test_registration_created_and_confirmed_by_the_community_only(people: People) -> None:
    body = {
        "full_name": "陈党员",
        "phone": "13600001234",
        "organization": people.bank.pk,
        "community": people.c1.code,
        "consent": True,
    }
    assert api(people.stranger).post(REG, {**body, "consent": False}, format="json").status_code == 400
    response = api(people.stranger).post(REG, body, format="json")
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert api(people.other_community).post(f"{REG}{pk}/confirm/").status_code == 404
    assert api(people.street).post(f"{REG}{pk}/confirm/").status_code == 403
    assert api(people.community).post(f"{REG}{pk}/confirm/").json()["state"] == RegistrationState.CONFIRMED
    assert api(people.community).post(f"{REG}{pk}/confirm/").status_code == 409
    assert api(people.stranger).post(REG, {**body, "phone": "13600009999"}, format="json").status_code == 409


def test_claim_record_confirm(people: People) -> None:
    n = need(people)
    member = api(people.member_user)
    response = member.post(f"{NEEDS}{n.pk}/claim/", {}, format="json")
    assert response.status_code == 201, response.json()
    claim_id = response.json()["id"]
    assert member.post(f"{NEEDS}{n.pk}/claim/", {}, format="json").status_code == 409  # claimed: full now
    # Someone else's registration named by a member: refused, nothing written.
    other = need(people, places=3)
    assert member.post(
        f"{NEEDS}{other.pk}/claim/", {"registration": people.banker.pk}, format="json"
    ).status_code in (
        403,
        409,
    )
    assert Claim.objects.filter(need=other).count() == 0
    for hours in ("-1", "99", "abc"):
        bad = member.post(
            f"{CLAIMS}{claim_id}/record/",
            {"hours": hours, "note": "送药上门", "served_on": timezone.localdate().isoformat()},
            format="json",
        )
        assert bad.status_code == 400
    fake = SimpleUploadedFile("x.jpg", b"GIF89a not really", content_type="image/jpeg")
    bad = member.post(
        f"{CLAIMS}{claim_id}/record/",
        {"hours": "1", "note": "送药上门", "served_on": timezone.localdate().isoformat(), "photo": fake},
        format="multipart",
    )
    assert bad.status_code == 400
    assert Claim.objects.get(pk=claim_id).state == ClaimState.CLAIMED
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(out, format="PNG")
    good = member.post(
        f"{CLAIMS}{claim_id}/record/",
        {
            "hours": "1.5",
            "note": "送药上门",
            "served_on": timezone.localdate().isoformat(),
            "photo": SimpleUploadedFile("p.png", out.getvalue(), content_type="image/png"),
        },
        format="multipart",
    )
    assert good.status_code == 200 and good.json()["has_photo"] is True
    assert member.post(f"{CLAIMS}{claim_id}/confirm/").status_code == 403
    assert api(people.other_community).post(f"{CLAIMS}{claim_id}/confirm/").status_code == 404
    assert api(people.community).post(f"{CLAIMS}{claim_id}/confirm/").json()["state"] == ClaimState.CONFIRMED
    n.refresh_from_db()
    assert n.state == NeedState.DONE


def test_need_posting_is_the_communitys(people: People) -> None:
    body = {"community": people.c1.code, "kind": NeedKind.SERVICE, "title": "义诊", "places": 2}
    assert api(people.other_community).post(NEEDS, body, format="json").status_code == 403
    assert api(people.community).post(NEEDS, body, format="json").status_code == 201
    assert api(people.community).post(NEEDS, {**body, "places": 0}, format="json").status_code == 400
    assert ServiceNeed.objects.count() == 1


def test_community_claims_for_a_member_without_login(people: People) -> None:
    n = need(people)
    response = api(people.community).post(
        f"{NEEDS}{n.pk}/claim/", {"registration": people.banker.pk}, format="json"
    )
    assert response.status_code == 201
    assert Registration.objects.get(pk=people.banker.pk).claims.count() == 1
    elsewhere = RegistrationFactory(community=people.c2)
    n2 = need(people)
    response = api(people.community).post(
        f"{NEEDS}{n2.pk}/claim/", {"registration": elsewhere.pk}, format="json"
    )
    assert response.status_code == 409


@pytest.mark.parametrize("url", [REG, NEEDS, CLAIMS])
def test_api_lists_take_constant_queries(people: People, url: str) -> None:
    client = api(people.community)

    def grow(n: int) -> None:
        for _ in range(n):
            member = RegistrationFactory(community=people.c1)
            n_ = need(people)
            claim_take(need=n_, registration=member, user=people.community, now=timezone.now())

    grow(1)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    grow(4)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url).json()["results"]) >= 5
    assert len(many) == len(few)
