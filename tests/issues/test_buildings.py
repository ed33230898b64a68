"""Buildings (楼栋) below an alley and their building heads (楼栋长): filing, scoping, who handles what.

Jilin's "网格长、楼栋长、单元长" and Quanzhou's building chiefs. A building head sees the cases of
their building, files cases for it, and handles its A-class cases while the alley's team holds them
(accept, start, resolve; take, progress, note) — through the transition table's who-checks. B/C/D
classes, other buildings and cases that climbed to the community are refused with the reason.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from alleys.choices import AreaLevel
from alleys.scoping import scope_for
from issues.choices import CaseState
from issues.models import Case
from issues.privacy import handles_case, handles_q
from issues.selectors import held_q
from issues.workflow import (
    TRANSITIONS,
    TransitionError,
    TransitionForbidden,
    TransitionInvalid,
    allowed_transitions,
    case_accept,
    case_note,
    case_progress_update,
    case_resolve,
    case_start,
    case_submit,
    case_take,
    case_whistle,
)
from tests.factories import MONDAY, Buildings, World, build_buildings, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def b(world: World) -> Buildings:
    return build_buildings(world)


def filed(world: World, b: Buildings, *, building: Any = "one", category: Any = None, **kw: Any) -> Case:
    """A case filed by a resident in alley_x, naming a building (``None``: none)."""
    return case_submit(
        category=category or world.cat_a,
        alley=world.alley_x,
        building=getattr(b, building) if isinstance(building, str) else building,
        description="楼道灯坏了，晚上上下楼看不见。",
        now=MONDAY,
        **kw,
    )


# --- filing ---------------------------------------------------------------------------------------


def test_a_resident_names_a_building_and_the_case_starts_with_the_alley_team(
    world: World, b: Buildings
) -> None:
    case = filed(world, b)
    assert case.building == b.one
    # A building is never a tier: the case is held by the alley's team as any other.
    assert case.tier == AreaLevel.ALLEY
    assert case.holder_area == world.alley_x


def test_a_building_of_another_alley_is_refused_with_a_message(world: World, b: Buildings) -> None:
    with pytest.raises(TransitionInvalid) as refused:
        filed(world, b, building="other_alley")
    assert refused.value.field == "building"
    assert "不在金鱼巷内" in str(refused.value.message)
    assert Case.objects.count() == 0


def test_an_alley_is_not_a_building(world: World, b: Buildings) -> None:
    with pytest.raises(TransitionInvalid):
        filed(world, b, building=world.alley_x)


def test_the_model_check_refuses_a_building_outside_the_alley(world: World, b: Buildings) -> None:
    case = filed(world, b)
    case.building = b.other_alley
    with pytest.raises(ValidationError) as refused:
        case.full_clean()
    assert "building" in refused.value.message_dict


@pytest.mark.postgres
def test_the_database_refuses_a_building_outside_the_alley(world: World, b: Buildings) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the composite foreign key is PostgreSQL's")
    case = filed(world, b)
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(building=b.other_alley)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_a_building_head_files_for_their_building_but_not_for_the_alley(world: World, b: Buildings) -> None:
    case = filed(world, b, actor=b.head_one)
    assert case.building == b.one and case.created_by == b.head_one
    with pytest.raises(TransitionForbidden):
        filed(world, b, building=None, actor=b.head_one)
    with pytest.raises(TransitionForbidden):
        filed(world, b, building="two", actor=b.head_one)


# --- scoping ----------------------------------------------------------------------------------


def test_a_building_head_sees_their_buildings_cases_only(world: World, b: Buildings) -> None:
    mine = filed(world, b, category=world.cat_b)  # any class: seeing is not handling
    neighbours = filed(world, b, building="two")
    alley_only = filed(world, b, building=None)
    elsewhere = make_case(world, alley=world.alley_y, building=b.other_alley)
    assert set(Case.objects.visible_to(b.head_one)) == {mine}
    assert set(Case.objects.visible_to(b.head_other_alley)) == {elsewhere}
    # The alley's team and the community still see everything in the alley, buildings included.
    for name in ("chief_x", "service_x", "community_worker_x", "street_worker"):
        assert {mine, neighbours, alley_only} <= set(Case.objects.visible_to(getattr(world, name)))
    assert scope_for(b.head_one).building_codes == (b.one.code,)


def test_a_building_head_sees_their_building_as_their_territory(world: World, b: Buildings) -> None:
    from alleys.models import Area

    assert list(Area.objects.visible_to(b.head_one)) == [b.one]


# --- handling --------------------------------------------------------------------------------


def test_a_building_head_handles_an_a_class_case_of_their_building(world: World, b: Buildings) -> None:
    case = filed(world, b)
    names = {t.name for t in allowed_transitions(case, b.head_one)}
    assert {"accept", "take", "note"} <= names
    assert not names & {"whistle", "reject", "merge", "assign", "dispatch"}
    case_accept(case=case, actor=b.head_one, now=MONDAY)
    case_take(case=case, actor=b.head_one, now=MONDAY)
    case_start(case=case, actor=b.head_one, now=MONDAY)
    case_progress_update(case=case, actor=b.head_one, note="已联系物业换灯。", now=MONDAY)
    case_note(case=case, actor=b.head_one, text="物业周三来。", now=MONDAY)
    case = case_resolve(case=case, actor=b.head_one, note="楼道灯已更换。", now=MONDAY)
    assert case.state == CaseState.AWAITING_VERIFICATION
    assert case.assignee == b.head_one
    # The public timeline names the building's head as a unit, never the person.
    labels = set(case.events.values_list("actor_label", flat=True))
    assert "1号楼楼栋长" in labels


def test_a_b_class_case_is_refused_with_the_reason(world: World, b: Buildings) -> None:
    case = filed(world, b, category=world.cat_b)
    assert allowed_transitions(case, b.head_one) == [TRANSITIONS["note"]]
    with pytest.raises(TransitionForbidden) as refused:
        case_accept(case=case, actor=b.head_one, now=MONDAY)
    assert "楼栋长：本楼栋在街巷办理的A类事项" in str(refused.value.message)
    with pytest.raises(TransitionForbidden):
        case_take(case=case, actor=b.head_one, now=MONDAY)


def test_the_neighbouring_building_and_other_alleys_are_refused(world: World, b: Buildings) -> None:
    case = filed(world, b)
    for head in (b.head_two, b.head_other_alley):
        with pytest.raises(TransitionError):
            case_accept(case=case, actor=head, now=MONDAY)
        with pytest.raises(TransitionForbidden):
            case_note(case=case, actor=head, text="不是我的楼。", now=MONDAY)
    # A case of the alley that names no building is not any building head's.
    plain = filed(world, b, building=None)
    with pytest.raises(TransitionForbidden):
        case_accept(case=plain, actor=b.head_one, now=MONDAY)


def test_a_case_that_climbed_to_the_community_is_no_longer_the_building_heads(
    world: World, b: Buildings
) -> None:
    case = filed(world, b)
    case_whistle(case=case, actor=world.chief_x, reason="楼内线路老化，需要社区协调。", now=MONDAY)
    case.refresh_from_db()
    assert case.tier == AreaLevel.COMMUNITY
    with pytest.raises(TransitionForbidden):
        case_accept(case=case, actor=b.head_one, now=MONDAY)
    assert not handles_case(b.head_one, case)
    # Still theirs to see.
    assert case in Case.objects.visible_to(b.head_one)


def test_the_building_head_does_not_whistle(world: World, b: Buildings) -> None:
    case = filed(world, b)
    with pytest.raises(TransitionForbidden):
        case_whistle(case=case, actor=b.head_one, reason="想上报。", now=MONDAY)


def test_the_alley_team_still_handles_every_case_of_its_buildings(world: World, b: Buildings) -> None:
    for building, category in (("one", world.cat_a), ("two", world.cat_b), (None, world.cat_a)):
        case = filed(world, b, building=building, category=category)
        case_accept(case=case, actor=world.chief_x, now=MONDAY)
        case_start(case=case, actor=world.service_x, now=MONDAY)
        case = case_resolve(case=case, actor=world.grid_x, note="已处理。", now=MONDAY)
        assert case.state == CaseState.AWAITING_VERIFICATION


# --- personal data and the inbox --------------------------------------------------------------


def test_personal_data_only_while_the_building_head_may_handle(world: World, b: Buildings) -> None:
    a_case = filed(world, b, reporter_name="李秀英", reporter_phone="13912345678")
    b_case = filed(world, b, category=world.cat_b)
    other = filed(world, b, building="two")
    plain = filed(world, b, building=None)
    for case in (a_case, b_case, other, plain):
        listed = Case.objects.filter(handles_q(b.head_one), pk=case.pk).exists()
        assert listed == handles_case(b.head_one, case), case
    assert handles_case(b.head_one, a_case)
    assert not handles_case(b.head_one, b_case)
    # The alley's chief handles them all.
    assert all(handles_case(world.chief_x, c) for c in (a_case, b_case, other, plain))


def test_the_building_heads_inbox_holds_their_a_class_cases(world: World, b: Buildings) -> None:
    mine = filed(world, b)
    filed(world, b, category=world.cat_b)
    filed(world, b, building="two")
    assert list(Case.objects.filter(held_q(scope_for(b.head_one)))) == [mine]


# --- communities without buildings ----------------------------------------------------------


def test_a_case_without_buildings_is_as_before(world: World) -> None:
    case = case_submit(category=world.cat_a, alley=world.alley_x, description="路灯不亮。", now=MONDAY)
    assert case.building is None
    assert set(Case.objects.visible_to(world.chief_x)) == {case}
    assert "accept" in {t.name for t in allowed_transitions(case, world.chief_x)}


def test_the_building_heads_navigation_never_fails(client: Any, world: World, b: Buildings) -> None:
    filed(world, b)
    client.force_login(b.head_one)
    for path in (
        "/staff/",
        "/staff/cases/",
        "/staff/cases/new/",
        "/staff/inbox/",
        "/staff/orders/",
        "/staff/patrols/",
        "/staff/meetings/",
        "/dashboard/",
        "/admin/",
    ):
        response = client.get(path)
        assert response.status_code in (200, 302, 403), (path, response.status_code)
    form = client.get("/staff/cases/new/").content.decode()
    assert 'name="building"' in form and f'<option value="{b.one.pk}">1号楼</option>' in form
