"""The to-do page's queues per role: what each holds, and count == rows == its "see all" list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from alleys.choices import AreaLevel
from issues.choices import CaseState
from issues.models import Case
from issues.selectors import CASE_QUEUES, TODO_ROWS
from issues.workflow import case_assign, case_start, case_take
from issues.workflow.orders import order_receive, order_reject
from tests.factories import World, make_case

from .helpers import dispatched_case

pytestmark = pytest.mark.django_db


def blocks(response: Any) -> dict[str, dict[str, Any]]:
    return {b["key"]: b for b in response.context["case_blocks"]}


def codes(rows: Any) -> set[str]:
    return {c.tracking_code for c in rows}


def listed(client: Client, url: str) -> tuple[int, set[str]]:
    """The total and the first page of a "see all" link."""
    response = client.get(url)
    assert response.status_code == 200
    return response.context["page"].paginator.count, codes(response.context["cases"])


def assert_blocks_agree(client: Client) -> dict[str, dict[str, Any]]:
    """Each shown block: its count is the number of its rows (all shown below the limit) and of its list."""
    found = blocks(client.get("/staff/"))
    for key, block in found.items():
        if not block["shown"]:
            assert block["count"] == 0 and block["rows"] == []
            continue
        assert len(block["rows"]) == min(block["count"], TODO_ROWS), key
        total, first_page = listed(client, block["more"])
        assert total == block["count"], key
        assert codes(block["rows"]) <= first_page, key
    return found


def test_a_chiefs_case_stays_in_the_unit_queue_after_starting(
    world: World, login: Callable[[str], Client]
) -> None:
    now = timezone.now()
    fresh = make_case(world, now=now)
    client = login("chief_x")
    assert codes(blocks(client.get("/staff/"))["awaiting_acceptance"]["rows"]) == {fresh.tracking_code}
    from issues.workflow import case_accept

    case_accept(case=fresh.pk, actor=world.chief_x)
    case_start(case=fresh.pk, actor=world.chief_x)
    found = assert_blocks_agree(client)
    assert found["awaiting_acceptance"]["count"] == 0
    assert codes(found["in_hands"]["rows"]) == {fresh.tracking_code}
    assert found["in_hands"]["group"] == "unit"


def test_overdue_first_and_every_count_matches_its_list(world: World, login: Callable[[str], Client]) -> None:
    now = timezone.now()
    late = make_case(world, state=CaseState.IN_PROGRESS, now=now - dt.timedelta(days=40))
    soon = make_case(world, state=CaseState.ACCEPTED, now=now)
    Case.objects.filter(pk=soon.pk).update(resolve_due=now + dt.timedelta(hours=2))
    for _ in range(TODO_ROWS + 3):  # more than a block shows
        make_case(world, now=now)
    client = login("chief_x")
    found = assert_blocks_agree(client)
    assert found["awaiting_acceptance"]["count"] == TODO_ROWS + 3
    assert len(found["awaiting_acceptance"]["rows"]) == TODO_ROWS
    assert codes(found["overdue"]["rows"]) == {late.tracking_code}
    # In the unit's hands by deadline: the overdue case first.
    assert [c.tracking_code for c in found["in_hands"]["rows"]] == [late.tracking_code, soon.tracking_code]
    assert codes(found["near_deadline"]["rows"]) == {soon.tracking_code}
    # The "see all" page is the queue, ordered as the block.
    response = client.get(found["awaiting_acceptance"]["more"])
    assert response.context["page"].paginator.count == TODO_ROWS + 3
    body = response.content.decode()
    assert "待我受理" in body


def test_community_worker_queues(world: World, login: Callable[[str], Client]) -> None:
    alley_case = make_case(world)
    to_verify = make_case(world, state=CaseState.AWAITING_VERIFICATION)
    street_case_to_verify = make_case(world, state=CaseState.AWAITING_VERIFICATION, tier=AreaLevel.STREET)
    visit = make_case(world, state=CaseState.AWAITING_RETURN_VISIT)
    make_case(world, alley=world.alley_y, state=CaseState.AWAITING_VERIFICATION)
    found = assert_blocks_agree(login("community_worker_x"))
    assert codes(found["awaiting_acceptance"]["rows"]) == {alley_case.tracking_code}
    assert codes(found["awaiting_verification"]["rows"]) == {
        to_verify.tracking_code,
        street_case_to_verify.tracking_code,
    }
    assert codes(found["awaiting_return_visit"]["rows"]) == {visit.tracking_code}
    assert found["to_dispatch"]["shown"] is False


def test_street_queues(world: World, login: Callable[[str], Client]) -> None:
    at_street = make_case(world, category=world.cat_b, tier=AreaLevel.STREET)
    supervised = make_case(world, supervised=True)
    found = assert_blocks_agree(login("street_worker"))
    assert codes(found["awaiting_acceptance"]["rows"]) == {at_street.tracking_code}
    assert codes(found["supervised"]["rows"]) == {supervised.tracking_code}
    assert found["awaiting_verification"]["shown"] is False


def test_org_officer_decides_dispatch_rejected_orders(world: World, login: Callable[[str], Client]) -> None:
    held = make_case(world, category=world.cat_d, tier=AreaLevel.DISTRICT)
    dispatched = dispatched_case(world)
    order = dispatched.orders.get(role="cooperating")
    order_reject(order=order.pk, actor=world.coop_contact, reason="不属于住建职责")
    client = login("district_officer")
    found = assert_blocks_agree(client)
    # The district's undispatched case waits for dispatch (which accepts it), not for acceptance too.
    assert codes(found["to_dispatch"]["rows"]) == {held.tracking_code}
    assert found["awaiting_acceptance"]["count"] == 0
    assert dispatched.tracking_code in codes(found["in_hands"]["rows"])
    response = client.get("/staff/")
    assert [o.pk for o in response.context["rejected_orders"]] == [order.pk]
    listed_orders = client.get(response.context["rejected_more"])
    assert [o.pk for o in listed_orders.context["orders"]] == [order.pk]
    assert (
        found["to_dispatch"]["shown"] and not blocks(login("chief_x").get("/staff/"))["to_dispatch"]["shown"]
    )


def test_department_contact_order_queues(world: World, login: Callable[[str], Client]) -> None:
    first = dispatched_case(world)
    second = dispatched_case(world)
    order = second.orders.get(role="lead")
    order_receive(order=order.pk, actor=world.lead_contact)
    client = login("lead_contact")
    response = client.get("/staff/")
    queues = {b["key"]: b for b in response.context["order_blocks"]}
    assert {o.case_id for o in queues["to_receive"]["rows"]} == {first.pk}
    assert {o.case_id for o in queues["to_report"]["rows"]} == {second.pk}
    assert queues["to_complete"]["count"] == 0
    for block in queues.values():
        listed_orders = client.get(block["more"])
        assert listed_orders.context["page"].paginator.count == block["count"]
        assert {o.pk for o in listed_orders.context["orders"]} == {o.pk for o in block["rows"]}
    # A department holds no case queues (it works through its orders).
    assert not blocks(response)["awaiting_acceptance"]["shown"]


def test_assigned_to_me(world: World, login: Callable[[str], Client]) -> None:
    mine = make_case(world, state=CaseState.IN_PROGRESS)
    colleague = make_case(world, state=CaseState.IN_PROGRESS)
    case_take(case=mine.pk, actor=world.chief_x)
    case_assign(case=colleague.pk, actor=world.chief_x, assignee=world.service_x)
    found = assert_blocks_agree(login("chief_x"))
    assert codes(found["assigned_to_me"]["rows"]) == {mine.tracking_code}
    assert codes(assert_blocks_agree(login("service_x"))["assigned_to_me"]["rows"]) == {
        colleague.tracking_code
    }
    # The list's "assigned to me" filter agrees.
    total, shown = listed(login("chief_x"), "/staff/cases/?mine=assigned")
    assert (total, shown) == (1, {mine.tracking_code})


def test_every_queue_has_a_title_and_an_unknown_queue_is_ignored(
    world: World, login: Callable[[str], Client]
) -> None:
    assert all(str(q.title) for q in CASE_QUEUES.values())
    case = make_case(world)
    response = login("chief_x").get("/staff/cases/", {"queue": "nonsense"})
    assert response.status_code == 200 and case.tracking_code in codes(response.context["cases"])
