"""The case page's one action panel: only what this user may do now, as the transition table says (issue 16).

``available_transitions`` asks each row's source states and who-check and writes nothing; the page
shows its answer as compact expanding buttons, the destructive ones apart and confirmed, the
requirements (a fix photo, a reason) said before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from alleys.choices import AreaLevel
from issues.choices import CaseState
from issues.models import Case, CaseEvent
from issues.views import available_transitions
from tests.factories import World, make_case

from .helpers import dispatched_case, text, visible_text

pytestmark = pytest.mark.django_db


def names(case: Case, world: World, actor: str) -> set[str]:
    return {t.name for t in available_transitions(case, world.actor(actor))}


def action_ids(response: object) -> set[str]:
    return set(re.findall(r'<details class="action[^"]*"[^>]* id="t-([a-z-]+)"', text(response)))  # type: ignore[arg-type]


# --- the function ------------------------------------------------------------------------------


def test_the_chief_on_a_submitted_alley_case_may_accept_but_not_dispatch(world: World) -> None:
    case = make_case(world)
    assert names(case, world, "chief_x") == {"accept", "whistle", "reject", "merge"}


def test_the_chief_once_accepted_may_start_and_resolve(world: World) -> None:
    accepted = make_case(world, state=CaseState.ACCEPTED)
    assert {"start", "resolve", "whistle", "reject", "merge"} == names(accepted, world, "chief_x")
    working = make_case(world, state=CaseState.IN_PROGRESS)
    assert "resolve" in names(working, world, "chief_x") and "start" not in names(working, world, "chief_x")


def test_the_community_verifies_what_awaits_verification(world: World) -> None:
    case = make_case(world, state=CaseState.AWAITING_VERIFICATION)
    assert "verify" in names(case, world, "community_worker_x")
    assert "verify" not in names(case, world, "chief_x")
    assert "verify" not in names(case, world, "community_worker_y")  # another community


def test_a_department_contact_gets_none_of_the_case_actions(world: World) -> None:
    case = dispatched_case(world)
    assert names(case, world, "lead_contact") == set()  # it works through its order
    assert names(case, world, "coop_contact") == set()


def test_the_officer_dispatches_a_case_held_at_the_district(world: World) -> None:
    case = make_case(world, category=world.cat_d, tier=AreaLevel.DISTRICT)
    offered = names(case, world, "district_officer")
    assert "dispatch" in offered and "accept" in offered
    assert "dispatch" not in names(case, world, "street_worker")
    assert "dispatch" not in names(make_case(world), world, "district_officer")  # an alley case


@pytest.mark.parametrize(
    "actor", ["chief_x", "community_worker_x", "street_worker", "district_officer", "lead_contact", "admin"]
)
def test_a_closed_case_offers_nothing(world: World, actor: str) -> None:
    case = make_case(world, state=CaseState.CLOSED)
    assert names(case, world, actor) == set()


def test_asking_writes_nothing(world: World) -> None:
    case = make_case(world)
    before = CaseEvent.objects.count()
    available_transitions(case, world.chief_x)
    assert CaseEvent.objects.count() == before
    assert Case.objects.get(pk=case.pk).state == CaseState.SUBMITTED


def test_every_offer_is_one_the_page_can_make(world: World) -> None:
    from issues.views import CASE_ACTIONS, LINKED_TRANSITIONS

    for state in set(CaseState.values) - {CaseState.MERGED}:  # a merged case needs its target
        case = make_case(world, state=state)
        for actor in ("chief_x", "community_worker_x", "street_worker", "admin"):
            for t in available_transitions(case, world.actor(actor)):
                assert t.name in CASE_ACTIONS or t.name in LINKED_TRANSITIONS


# --- the rendered page ---------------------------------------------------------------------------


def test_the_page_puts_facts_photos_and_timeline_before_the_panel(
    world: World, login: Callable[[str], Client]
) -> None:
    case = make_case(world)
    body = text(login("chief_x").get(f"/staff/cases/{case.pk}/"))
    order = [body.index(f'id="{part}"') for part in ("facts", "photos", "timeline", "actions")]
    assert order == sorted(order)


def test_the_chief_sees_accept_and_the_destructive_ones_apart(
    world: World, login: Callable[[str], Client]
) -> None:
    case = make_case(world)
    response = login("chief_x").get(f"/staff/cases/{case.pk}/")
    assert action_ids(response) == {"accept", "whistle", "reject", "merge"}
    body = text(response)
    danger = body[body.index('class="danger-zone"') :]
    assert 'id="t-reject"' in danger and 'id="t-merge"' in danger
    assert 'id="t-accept"' not in danger
    assert "btn-danger" in danger
    # Each destructive form asks for a confirmation the browser and the server both require.
    for name in ("reject", "merge"):
        assert re.search(rf'<input type="checkbox" name="{name}-confirm" required', body)
    # The reject reason is marked required before sending.
    assert re.search(r'<textarea name="reject-reason"[^>]*required', body)
    assert "dispatch" not in action_ids(response)


def test_the_community_sees_verify_and_its_form_is_open(world: World, login: Callable[[str], Client]) -> None:
    case = make_case(world, state=CaseState.AWAITING_VERIFICATION)
    response = login("community_worker_x").get(f"/staff/cases/{case.pk}/")
    assert "verify" in action_ids(response)
    assert re.search(
        r'<details class="action"[^>]*id="t-verify" open>', text(response)
    )  # the one thing to do


def test_a_department_contact_sees_no_action_on_the_case_page(
    world: World, login: Callable[[str], Client]
) -> None:
    case = dispatched_case(world)
    response = login("lead_contact").get(f"/staff/cases/{case.pk}/")
    assert response.status_code == 200
    assert action_ids(response) == set()
    assert "您现在没有可以对该案件执行的操作。" in text(response)


def test_the_officer_sees_dispatch_as_a_link(world: World, login: Callable[[str], Client]) -> None:
    case = make_case(world, category=world.cat_d, tier=AreaLevel.DISTRICT)
    response = login("district_officer").get(f"/staff/cases/{case.pk}/")
    assert "dispatch" in action_ids(response)
    assert f'href="/staff/dispatch/{case.pk}/"' in text(response)


def test_a_closed_case_shows_no_actions(world: World, login: Callable[[str], Client]) -> None:
    case = make_case(world, state=CaseState.CLOSED)
    for actor in ("chief_x", "community_worker_x", "admin"):
        response = login(actor).get(f"/staff/cases/{case.pk}/")
        assert action_ids(response) == set()
        assert "您现在没有可以对该案件执行的操作。" in text(response)


def test_the_fix_photo_requirement_is_said_before_sending(
    world: World, login: Callable[[str], Client]
) -> None:
    case = make_case(world, state=CaseState.IN_PROGRESS)
    client = login("chief_x")
    body = text(client.get(f"/staff/cases/{case.pk}/"))
    assert not re.search(r'<input type="file" name="resolve-photos"[^>]*required', body)
    world.cat_a.fix_photo_required = True
    world.cat_a.save()
    body = text(client.get(f"/staff/cases/{case.pk}/"))
    assert re.search(r'<input type="file" name="resolve-photos"[^>]*required', body)
    assert "这类问题办结时须上传整改后的照片（可多张）。" in body
    assert re.search(r'<textarea name="resolve-note"[^>]*required', body)


def test_the_reporter_phone_is_a_tel_link_only_for_those_who_handle_it(
    world: World, login: Callable[[str], Client]
) -> None:
    case = make_case(world, reporter_name="王五", reporter_phone="138 1234-5678")
    handler = text(login("chief_x").get(f"/staff/cases/{case.pk}/"))
    assert 'href="tel:13812345678"' in handler
    watcher = text(login("supervision_x").get(f"/staff/cases/{case.pk}/"))
    assert "tel:" not in watcher
    assert "12345678" not in watcher  # masked (issues.privacy)


def test_the_governing_deadline_names_its_kind_and_unit(world: World, login: Callable[[str], Client]) -> None:
    submitted = make_case(world)
    page = visible_text(login("chief_x").get(f"/staff/cases/{submitted.pk}/"))
    assert "受理期限" in page and "责任：金鱼巷街巷服务团队" in page
    verifying = make_case(world, state=CaseState.AWAITING_VERIFICATION)
    Case.objects.filter(pk=verifying.pk).update(verify_due=verifying.resolve_due)
    page = visible_text(login("chief_x").get(f"/staff/cases/{verifying.pk}/"))
    assert "核实期限" in page and "责任：新华社区" in page
    closed = make_case(world, state=CaseState.CLOSED)
    assert "无（不在办理时限内）" in visible_text(login("chief_x").get(f"/staff/cases/{closed.pk}/"))
