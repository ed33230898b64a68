"""Who may open which staff page: login required, territory scoping, 404 outside it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.factories import MASKED, PHONE, World, make_case

from .helpers import dispatched_case, text

pytestmark = pytest.mark.django_db

STAFF_URLS = [
    "/staff/",
    "/staff/cases/",
    "/staff/cases/new/",
    "/staff/orders/",
    "/staff/patrols/",
    "/staff/inbox/",
    "/staff/common-issues/",
]


@pytest.mark.parametrize("url", STAFF_URLS)
def test_staff_pages_need_a_login(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/staff/login/?next={url}"


def test_login_lands_on_the_to_do_list(world: World, client: Client) -> None:
    user = world.chief_x
    user.set_password("pw-for-test-123")
    user.save()
    response = client.post("/staff/login/", {"username": "chief_x", "password": "pw-for-test-123"})
    assert response.status_code == 302
    assert response["Location"] == "/staff/"


def test_root_is_not_the_staff_site(world: World, login: Callable[[str], Client]) -> None:
    response = login("chief_x").get("/")
    assert not (response.status_code == 200 and "待我受理" in text(response))


# (actor, sees the alley-X case, sees the reporter's full phone on the detail page)
CASE_ACCESS = [
    ("chief_x", True, True),
    ("grid_x", True, True),
    ("supervision_x", True, False),
    ("community_worker_x", True, True),  # the community verifies and calls back on its alleys' cases
    ("street_worker", True, False),
    ("district_officer", True, False),
    ("city_officer", True, False),
    ("admin", True, True),
    ("chief_y", False, False),
    ("community_worker_y", False, False),
    ("community_worker_far", False, False),
    ("street_worker_far", False, False),
    ("district_officer_far", False, False),
    ("lead_contact", False, False),
    ("nobody", False, False),
]


@pytest.mark.parametrize(("actor", "sees", "full_phone"), CASE_ACCESS)
def test_case_detail_and_list_by_role(
    world: World, login: Callable[[str], Client], actor: str, sees: bool, full_phone: bool
) -> None:
    case = make_case(world)
    client = login(actor)
    detail = client.get(f"/staff/cases/{case.pk}/")
    listing = client.get("/staff/cases/")
    assert listing.status_code == 200
    assert (case.tracking_code in text(listing)) is sees
    # Lists never show a reporter's full phone, not even to the handler.
    assert PHONE not in text(listing)
    if not sees:
        assert detail.status_code == 404
        return
    assert detail.status_code == 200
    body = text(detail)
    assert (PHONE in body) is full_phone
    if not full_phone:
        assert MASKED in body


def test_department_sees_the_case_it_has_an_order_for(world: World, login: Callable[[str], Client]) -> None:
    case = dispatched_case(world)
    lead = login("lead_contact")
    response = lead.get(f"/staff/cases/{case.pk}/")
    assert response.status_code == 200
    assert PHONE in text(response)  # the department handles the case
    assert login("far_contact").get(f"/staff/cases/{case.pk}/").status_code == 404


def test_photo_files_are_served_only_within_the_territory(
    world: World, login: Callable[[str], Client], django_capture_on_commit_callbacks: Any
) -> None:
    from issues.workflow import case_submit

    from .helpers import png

    with django_capture_on_commit_callbacks() as publish:
        case = case_submit(
            category=world.cat_a,
            alley=world.alley_x,
            description="井盖松动",
            photos=[png("report.png")],
            actor=world.chief_x,
        )
    photo = case.photos.get()
    # Until processed, no one is served the raw upload, not even the holder.
    assert login("chief_x").get(f"/staff/photos/{photo.pk}/").status_code == 404
    for callback in publish:  # after commit: the processing task (eager in the tests)
        callback()
    ok = login("chief_x").get(f"/staff/photos/{photo.pk}/")
    assert ok.status_code == 200
    assert ok["Content-Type"] == "image/jpeg"
    assert b"".join(ok.streaming_content)[:2] == b"\xff\xd8"
    assert login("chief_y").get(f"/staff/photos/{photo.pk}/").status_code == 404
    assert Client().get(f"/staff/photos/{photo.pk}/").status_code == 302
