"""alleys/admin.py: the staff admin per login — rows in scope visible, the rest absent or "not found".

Django's admin answers an object outside the user's queryset the same way as a bad id:
a redirect to the admin index with a "doesn't exist" warning (not a 404), so an
out-of-scope object cannot even be told apart from a missing one. A model the user's
roles do not open at all answers 403.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.forms import BooleanField
from django.test import Client
from django.urls import reverse

from alleys.choices import AreaLevel, Role, ServiceKind
from alleys.models import AlleyProfile, Area, Department, RoleAssignment
from tests.factories import (
    CategoryClassFactory,
    CategoryTypeFactory,
    RoleAssignmentFactory,
    Tree,
    UserFactory,
    make_actor,
)

from .conftest import Actors

pytestmark = pytest.mark.django_db

User = get_user_model()
INDEX = reverse("admin:index")


def url(name: str, *args: Any) -> str:
    return reverse(f"admin:{name}", args=args)


def login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def changelist_pks(response: Any) -> set[int]:
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


def assert_not_found(response: Any) -> None:
    """Django's answer for an object outside get_queryset: back to the index, with a warning."""
    assert response.status_code == 302
    assert response["Location"] == INDEX
    warnings = [str(m) for m in get_messages(response.wsgi_request)]
    assert warnings and all("不存在" in w for w in warnings)


def form_data(response: Any) -> dict[str, Any]:
    """What a browser would post back from an admin form page, untouched (inlines included)."""
    assert response.status_code == 200
    data: dict[str, Any] = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        forms.extend(formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = form[name].value()
            if isinstance(field, BooleanField):
                if value:
                    data[form.add_prefix(name)] = "on"
            elif value is not None:
                data[form.add_prefix(name)] = value
    return data


# --- the index: which modules each role gets ------------------------------------------------------


def index_models(response: Any) -> set[str]:
    assert response.status_code == 200
    return {m["object_name"] for app in response.context["app_list"] for m in app["models"]}


def test_index_for_each_login(client: Client, actors: Actors) -> None:
    territory = {"Area", "Department", "RoleAssignment", "User", "Notification", "NotificationChannel"}
    settings_ = {
        "CategoryClass",
        "CategoryType",
        "DeadlinePolicy",
        "OrderSettings",
        "CalendarYear",
        "CalendarDay",
    }
    seen = {
        name: index_models(login(client, getattr(actors, name)).get(INDEX))
        for name in ("superuser", "city_org", "district_org", "street", "community", "chief", "dept_contact")
    }
    assert territory | settings_ | {"SystemAlert", "NotificationDelivery"} <= seen["superuser"]
    assert seen["city_org"] >= territory | settings_ and "SystemAlert" not in seen["city_org"]
    assert seen["district_org"] >= territory | settings_
    assert seen["street"] >= territory and seen["street"].isdisjoint(settings_)
    assert seen["community"] >= territory and seen["community"].isdisjoint(settings_)
    # Everyone with a role sees their cases (read-mostly) and their own exports; chiefs their expenses.
    # …and the supervision list they keep (read-only; the pages under /staff/supervision/ write it).
    assert seen["chief"] == {
        "Area",
        "Department",
        "Notification",
        "Case",
        "ExportLog",
        "Expense",
        "Commitment",
        "SupervisionBallot",
    }
    assert seen["dept_contact"] == {"Department", "Notification", "NotificationChannel", "Case", "ExportLog"}


def test_staff_login_without_roles_gets_an_empty_admin(client: Client, tree: Tree) -> None:

    response = login(client, UserFactory()).get(INDEX)
    assert response.context["app_list"] == []
    assert login(client, UserFactory()).get(url("alleys_area_changelist")).status_code == 403


def test_anonymous_is_sent_to_the_login(client: Client, tree: Tree) -> None:
    response = client.get(url("alleys_area_changelist"))
    assert response.status_code == 302 and response["Location"].startswith(url("login"))


# --- areas ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "root"),
    [
        ("community", "d1s1c1"),
        ("street", "d1s1"),
        ("district_org", "d1"),
        ("city_org", "city"),
        ("superuser", "city"),
    ],
)
def test_area_changelist_shows_the_subtree_only(client: Client, actors: Actors, name: str, root: str) -> None:
    tree = actors.tree
    response = login(client, getattr(actors, name)).get(url("alleys_area_changelist"), {"all": ""})
    shown = {Area.objects.get(pk=pk).code for pk in changelist_pks(response)}
    assert shown == tree.under(root)


def test_chief_sees_only_their_alley(client: Client, actors: Actors) -> None:
    tree = actors.tree
    response = login(client, actors.chief).get(url("alleys_area_changelist"))
    assert changelist_pks(response) == {tree["d1s1c1a1"].pk}
    assert tree["d1s1c1a2"].name not in response.content.decode()


def test_area_changelist_query_count_does_not_grow_with_rows(
    client: Client, actors: Actors, django_assert_max_num_queries: Any
) -> None:
    login(client, actors.city_org)
    with django_assert_max_num_queries(12):
        response = client.get(url("alleys_area_changelist"))
    assert len(changelist_pks(response)) == 31


def test_area_search_and_filters(client: Client, actors: Actors) -> None:
    tree = actors.tree
    login(client, actors.street)
    response = client.get(url("alleys_area_changelist"), {"level__exact": AreaLevel.COMMUNITY})
    assert changelist_pks(response) == {tree["d1s1c1"].pk, tree["d1s1c2"].pk}
    response = client.get(url("alleys_area_changelist"), {"q": tree["d1s1c2"].code})
    assert changelist_pks(response) == {tree["d1s1c2"].pk, tree["d1s1c2a1"].pk, tree["d1s1c2a2"].pk}
    # Searching for an area outside the street finds nothing.
    assert changelist_pks(client.get(url("alleys_area_changelist"), {"q": tree["d2"].code})) == set()


def test_community_worker_opens_their_alley_with_profile_team_and_qr(client: Client, actors: Actors) -> None:
    alley = actors.tree["d1s1c1a1"]
    AlleyProfile.objects.create(area=alley, households=88, convention="门前三包")
    response = login(client, actors.community).get(url("alleys_area_change", alley.pk))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is True
    html = response.content.decode()
    assert f'src="/a/{alley.code}/qr.svg"' in html
    assert f"/a/{alley.code}/" in html  # the report URL, shown as a link
    assert "门前三包" in html
    formsets = {f.formset.prefix: f for f in response.context["inline_admin_formsets"]}
    assert set(formsets) == {"profile", "role_assignments"}
    team = {form.instance.user.username for form in formsets["role_assignments"].formset.initial_forms}
    assert team == {"chief", "deputy", "supervisor"}
    # Only alley roles are offered on an alley.
    offered = {
        value
        for value, _label in formsets["role_assignments"].formset.form.base_fields["role"].choices
        if value
    }
    assert offered == {
        Role.CHIEF,
        Role.DEPUTY_CHIEF,
        Role.SERVICE_TEAM,
        Role.SUPERVISION_TEAM,
        Role.GRID_WORKER,
    }


def test_alley_change_page_query_count(
    client: Client, actors: Actors, django_assert_max_num_queries: Any
) -> None:
    alley = actors.tree["d1s1c1a1"]  # a team of three
    login(client, actors.community)
    with django_assert_max_num_queries(14):
        assert client.get(url("alleys_area_change", alley.pk)).status_code == 200
    for _ in range(5):
        RoleAssignmentFactory(role=Role.GRID_WORKER, area=alley)
    # Django's autocomplete widget loads each row's selected person: one query per row, no more.
    with django_assert_max_num_queries(14 + 5):
        assert client.get(url("alleys_area_change", alley.pk)).status_code == 200


def test_community_worker_sees_their_community_read_only(client: Client, actors: Actors) -> None:
    community = actors.tree["d1s1c1"]
    response = login(client, actors.community).get(url("alleys_area_change", community.pk))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    data = {**form_data(response), "name": "改名"}
    assert client.post(url("alleys_area_change", community.pk), data).status_code == 403
    community.refresh_from_db()
    assert community.name != "改名"


@pytest.mark.parametrize(
    ("name", "outside"),
    [
        ("community", "d1s1c2a1"),
        ("community", "d1s1"),
        ("street", "d1s2"),
        ("district_org", "d2s1c1a1"),
    ],
)
def test_an_area_outside_a_managers_scope_is_not_found(
    client: Client, actors: Actors, name: str, outside: str
) -> None:
    area = actors.tree[outside]
    login(client, getattr(actors, name))
    assert_not_found(client.get(url("alleys_area_change", area.pk)))
    assert_not_found(client.post(url("alleys_area_change", area.pk), {"name": "被改了"}))
    assert_not_found(client.get(url("alleys_area_delete", area.pk)))
    assert_not_found(client.get(url("alleys_area_history", area.pk)))
    area.refresh_from_db()
    assert area.name != "被改了"


def test_a_read_only_role_gets_not_found_for_reads_and_403_for_writes(client: Client, actors: Actors) -> None:
    # Django checks the write permission before looking the object up, so a chief (who may
    # write nothing) is refused every write with 403, in scope or not: nothing leaks either way.
    own, other = actors.tree["d1s1c1a1"], actors.tree["d1s1c1a2"]
    login(client, actors.chief)
    assert_not_found(client.get(url("alleys_area_change", other.pk)))
    assert_not_found(client.get(url("alleys_area_history", other.pk)))
    for area in (own, other):
        assert client.post(url("alleys_area_change", area.pk), {"name": "被改了"}).status_code == 403
        assert client.get(url("alleys_area_delete", area.pk)).status_code == 403
    own_page = client.get(url("alleys_area_change", own.pk))
    assert own_page.status_code == 200 and own_page.context["has_change_permission"] is False


def test_community_worker_renames_their_alley(client: Client, actors: Actors) -> None:
    alley = actors.tree["d1s1c1a2"]
    login(client, actors.community)
    data = {**form_data(client.get(url("alleys_area_change", alley.pk))), "name": "新名字巷"}
    response = client.post(url("alleys_area_change", alley.pk), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    alley.refresh_from_db()
    assert alley.name == "新名字巷"


def test_community_worker_may_not_move_or_renumber_an_alley(client: Client, actors: Actors) -> None:
    alley = actors.tree["d1s1c1a2"]
    login(client, actors.community)
    data = form_data(client.get(url("alleys_area_change", alley.pk)))
    data.update(code=alley.code[:-3] + "099", parent=actors.tree["d1s1c2"].pk)
    assert client.post(url("alleys_area_change", alley.pk), data).status_code == 302
    alley.refresh_from_db()
    # code and parent are read-only for managers: the post is accepted, those fields ignored.
    assert alley.code == actors.tree["d1s1c1a2"].code and alley.parent == actors.tree["d1s1c1"]


def test_community_worker_adds_an_alley_in_their_community_only(client: Client, actors: Actors) -> None:
    tree = actors.tree
    login(client, actors.community)
    add = url("alleys_area_add")
    data = {
        "code": tree["d1s1c1"].code + "009",
        "name": "新巷",
        "level": AreaLevel.ALLEY,
        "parent": tree["d1s1c1"].pk,
    }
    assert client.post(add, {**data, "is_active": "on"}).status_code == 302
    assert Area.objects.get(code=tree["d1s1c1"].code + "009").parent == tree["d1s1c1"]

    elsewhere = {**data, "code": tree["d1s1c2"].code + "009", "name": "越界巷", "parent": tree["d1s1c2"].pk}
    response = client.post(add, elsewhere)
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    assert not Area.objects.filter(name="越界巷").exists()

    # A new community under their own community's street: the parent is not theirs to use.
    community = {
        **data,
        "code": tree["d1s1"].code + "009",
        "level": AreaLevel.COMMUNITY,
        "parent": tree["d1s1"].pk,
    }
    assert client.post(add, community).status_code == 200
    assert not Area.objects.filter(code=tree["d1s1"].code + "009").exists()


def test_street_worker_adds_a_community(client: Client, actors: Actors) -> None:
    tree = actors.tree
    login(client, actors.street)
    data = {
        "code": tree["d1s1"].code + "009",
        "name": "新社区",
        "level": AreaLevel.COMMUNITY,
        "parent": tree["d1s1"].pk,
    }
    assert client.post(url("alleys_area_add"), data).status_code == 302
    assert Area.objects.filter(code=tree["d1s1"].code + "009", level=AreaLevel.COMMUNITY).exists()


def test_parent_autocomplete_offers_only_possible_parents_in_scope(client: Client, actors: Actors) -> None:
    tree = actors.tree
    login(client, actors.street)
    response = client.get(
        url("autocomplete"), {"app_label": "alleys", "model_name": "area", "field_name": "parent", "term": ""}
    )
    assert response.status_code == 200
    ids = {int(r["id"]) for r in response.json()["results"]}
    assert ids == {tree["d1s1"].pk, tree["d1s1c1"].pk, tree["d1s1c2"].pk}


def add_row(data: dict[str, Any], prefix: str, **fields: Any) -> None:
    """Fill the first extra row of an inline (the blank one the page offers)."""
    index = int(data[f"{prefix}-INITIAL_FORMS"])
    assert int(data[f"{prefix}-TOTAL_FORMS"]) > index, "the page offers no blank row"
    data.update({f"{prefix}-{index}-{name}": value for name, value in fields.items()})


def test_community_worker_appoints_a_deputy_and_fills_the_profile(client: Client, actors: Actors) -> None:
    alley = actors.tree["d1s1c1a2"]
    login(client, actors.community)
    data = form_data(client.get(url("alleys_area_change", alley.pk)))
    add_row(data, "role_assignments", user=actors.deputy.pk, role=Role.DEPUTY_CHIEF, is_active="on")
    add_row(data, "profile", households=42, shops=3, resident_units=1, convention="邻里和睦")
    response = client.post(url("alleys_area_change", alley.pk), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert RoleAssignment.objects.filter(user=actors.deputy, area=alley, role=Role.DEPUTY_CHIEF).exists()
    assert AlleyProfile.objects.get(area=alley).households == 42
    # The police officer already on the team is untouched.
    assert RoleAssignment.objects.filter(user=actors.service, area=alley).exists()


def test_community_worker_cannot_appoint_someone_they_cannot_see(client: Client, actors: Actors) -> None:
    alley = actors.tree["d1s1c1a2"]
    login(client, actors.community)
    data = form_data(client.get(url("alleys_area_change", alley.pk)))
    add_row(data, "role_assignments", user=actors.far_chief.pk, role=Role.CHIEF, is_active="on")
    assert client.post(url("alleys_area_change", alley.pk), data).status_code == 200
    assert not RoleAssignment.objects.filter(user=actors.far_chief, area=alley).exists()


def test_a_service_team_member_needs_a_speciality_in_the_admin_too(client: Client, actors: Actors) -> None:
    alley = actors.tree["d1s1c1a2"]
    login(client, actors.community)
    data = form_data(client.get(url("alleys_area_change", alley.pk)))
    add_row(data, "role_assignments", user=actors.chief.pk, role=Role.SERVICE_TEAM, is_active="on")
    response = client.post(url("alleys_area_change", alley.pk), data)
    assert response.status_code == 200
    assert not RoleAssignment.objects.filter(user=actors.chief, area=alley).exists()
    add_row(data, "role_assignments", service_kind=ServiceKind.DOCTOR)
    assert client.post(url("alleys_area_change", alley.pk), data).status_code == 302
    assert RoleAssignment.objects.get(user=actors.chief, area=alley).service_kind == ServiceKind.DOCTOR


# --- departments ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dept_contact", {"D1-CG"}),
        ("dept_leader", {"D2-CG"}),
        ("district_org", {"D1-CG", "C-GD"}),
        ("community", {"D1-CG", "C-GD"}),
        ("city_org", {"D1-CG", "D2-CG", "C-GD"}),
    ],
)
def test_department_changelist(client: Client, actors: Actors, name: str, expected: set[str]) -> None:
    response = login(client, getattr(actors, name)).get(url("alleys_department_changelist"))
    assert {Department.objects.get(pk=pk).code for pk in changelist_pks(response)} == expected


def test_department_area_filter_lists_only_visible_areas(client: Client, actors: Actors) -> None:
    response = login(client, actors.district_org).get(url("alleys_department_changelist"))
    area_filter = next(
        f for f in response.context["cl"].filter_specs if getattr(f, "parameter_name", "") == "area"
    )
    assert {label for _value, label in area_filter.lookup_choices} == {"泉州市（3505）", "区1（350501）"}


def test_department_page_lists_its_duty_list_read_only(client: Client, actors: Actors) -> None:
    tree = actors.tree
    klass = CategoryClassFactory(code="A", name="简单事项", top_tier=AreaLevel.COMMUNITY)
    lamp = CategoryTypeFactory(code="A01", name="路灯不亮", category_class=klass)
    lamp.departments.add(tree.dep("dep_d1"))
    CategoryTypeFactory(code="A02", name="下水道堵塞", category_class=klass)
    response = login(client, actors.dept_contact).get(url("alleys_department_change", tree.dep("dep_d1").pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "路灯不亮" in html and "下水道堵塞" not in html


def test_department_contact_edits_contact_fields_only(client: Client, actors: Actors) -> None:
    department = actors.tree.dep("dep_d1")
    login(client, actors.dept_contact)
    response = client.get(url("alleys_department_change", department.pk))
    assert response.context["has_change_permission"] is True
    form_fields = set(response.context["adminform"].form.fields)
    assert form_fields == {"leader_name", "leader_phone", "contact_name", "contact_phone"}
    data = {**form_data(response), "name": "被改名", "contact_name": "新联系人", "contact_phone": "0595-2"}
    response = client.post(url("alleys_department_change", department.pk), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    department.refresh_from_db()
    assert department.contact_name == "新联系人" and department.name == "区1城管局"
    assert client.get(url("alleys_department_delete", department.pk)).status_code == 403


def test_department_contact_cannot_open_another_department(client: Client, actors: Actors) -> None:
    login(client, actors.dept_contact)
    assert_not_found(client.get(url("alleys_department_change", actors.tree.dep("dep_d2").pk)))


def test_district_org_edits_its_departments_and_reads_the_citys(client: Client, actors: Actors) -> None:
    tree = actors.tree
    login(client, actors.district_org)
    assert client.get(url("alleys_department_change", tree.dep("dep_d1").pk)).context["has_change_permission"]
    city_page = client.get(url("alleys_department_change", tree.dep("dep_city").pk))
    assert city_page.status_code == 200 and city_page.context["has_change_permission"] is False
    assert_not_found(client.get(url("alleys_department_change", tree.dep("dep_d2").pk)))
    # A new department can only go into their district.
    add = client.get(url("alleys_department_add"))
    assert set(add.context["adminform"].form.fields["area"].queryset) == {tree["d1"]}


# --- users -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("community", {"chief", "deputy", "supervisor", "police", "community"}),
        ("street", {"chief", "deputy", "supervisor", "police", "grid", "community", "otherchief", "street"}),
    ],
)
def test_user_changelist_is_scoped(client: Client, actors: Actors, name: str, expected: set[str]) -> None:
    response = login(client, getattr(actors, name)).get(url("auth_user_changelist"))
    assert {User.objects.get(pk=pk).username for pk in changelist_pks(response)} == expected


def test_user_changelist_query_count(
    client: Client, actors: Actors, django_assert_max_num_queries: Any
) -> None:
    login(client, actors.city_org)
    with django_assert_max_num_queries(12):
        response = client.get(url("auth_user_changelist"))
    assert len(changelist_pks(response)) == 13


def test_user_outside_the_scope_is_not_found(client: Client, actors: Actors) -> None:
    login(client, actors.community)
    assert_not_found(client.get(url("auth_user_change", actors.other_chief.pk)))
    assert client.get(url("auth_user_password_change", actors.other_chief.pk)).status_code == 404


def test_community_worker_cannot_make_anyone_superuser(client: Client, actors: Actors) -> None:
    chief = actors.chief
    login(client, actors.community)
    page = client.get(url("auth_user_change", chief.pk))
    assert page.status_code == 200 and page.context["has_change_permission"] is True
    assert {"is_superuser", "groups", "user_permissions"}.isdisjoint(page.context["adminform"].form.fields)
    data = {**form_data(page), "is_superuser": "on", "staff_profile-0-full_name": "张巷长"}
    response = client.post(url("auth_user_change", chief.pk), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    chief.refresh_from_db()
    assert chief.is_superuser is False
    assert chief.staff_profile.full_name == "张巷长"


def test_community_worker_cannot_edit_a_colleague_or_themselves(
    client: Client, actors: Actors, tree: Tree
) -> None:

    colleague = make_actor(Role.COMMUNITY_STAFF, area=tree["d1s1c1"])
    login(client, actors.community)
    for person in (colleague, actors.community):
        page = client.get(url("auth_user_change", person.pk))
        assert page.status_code == 200 and page.context["has_change_permission"] is False
        assert client.get(url("auth_user_password_change", person.pk)).status_code == 403


def add_user_data(client: Client, **extra: Any) -> dict[str, Any]:
    """The add-user page as a browser would post it, for a new chief (area still to choose)."""
    data = form_data(client.get(url("auth_user_add")))
    data.update(
        {
            "username": "newchief",
            "usable_password": "true",
            "password1": "a-long-enough-Passw0rd",
            "password2": "a-long-enough-Passw0rd",
            "is_staff": "on",
            "staff_profile-0-full_name": "新巷长",
            "roles-0-role": Role.CHIEF,
            "roles-0-is_active": "on",
        }
    )
    data.update(extra)
    return data


def test_community_worker_adds_a_chief_for_their_alley(client: Client, actors: Actors) -> None:
    alley = actors.tree["d1s1c1a2"]
    login(client, actors.community)
    response = client.post(
        url("auth_user_add"), add_user_data(client, **{"roles-0-area": alley.pk, "is_superuser": "on"})
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    created = User.objects.get(username="newchief")
    assert created.is_superuser is False and created.is_staff is True
    assert list(created.roles.values_list("role", "area")) == [(Role.CHIEF, alley.pk)]
    assert created.staff_profile.full_name == "新巷长"
    # ...and the new person is in their list right away.
    assert response["Location"] == url("auth_user_change", created.pk)
    assert client.get(response["Location"]).status_code == 200


def test_community_worker_must_place_a_new_person_in_their_community(client: Client, actors: Actors) -> None:
    login(client, actors.community)
    elsewhere = actors.tree["d1s1c2a1"]
    assert (
        client.post(url("auth_user_add"), add_user_data(client, **{"roles-0-area": elsewhere.pk})).status_code
        == 200
    )
    no_role = add_user_data(client, **{"roles-TOTAL_FORMS": 0})
    assert client.post(url("auth_user_add"), no_role).status_code == 200
    # Their own level's role (community staff on their community) is the street's to grant.
    own_level = add_user_data(
        client, **{"roles-0-role": Role.COMMUNITY_STAFF, "roles-0-area": actors.tree["d1s1c1"].pk}
    )
    assert client.post(url("auth_user_add"), own_level).status_code == 200
    assert not User.objects.filter(username="newchief").exists()


def test_street_worker_appoints_community_staff(client: Client, actors: Actors) -> None:
    login(client, actors.street)
    data = add_user_data(
        client, **{"roles-0-role": Role.COMMUNITY_STAFF, "roles-0-area": actors.tree["d1s1c2"].pk}
    )
    assert client.post(url("auth_user_add"), data).status_code == 302
    assert User.objects.get(username="newchief").roles.get().role == Role.COMMUNITY_STAFF


def test_superuser_still_manages_permissions(client: Client, actors: Actors) -> None:
    page = login(client, actors.superuser).get(url("auth_user_change", actors.chief.pk))
    assert "is_superuser" in page.context["adminform"].form.fields


# --- role assignments --------------------------------------------------------------------------------


def test_role_assignment_changelist_is_scoped(client: Client, actors: Actors) -> None:
    response = login(client, actors.community).get(url("alleys_roleassignment_changelist"))
    holders = {RoleAssignment.objects.get(pk=pk).user.username for pk in changelist_pks(response)}
    assert holders == {"chief", "deputy", "supervisor", "police", "community"}
    own = RoleAssignment.objects.get(user=actors.community)
    assert client.get(url("alleys_roleassignment_change", own.pk)).context["has_change_permission"] is False
    assert_not_found(
        client.get(url("alleys_roleassignment_change", RoleAssignment.objects.get(user=actors.grid).pk))
    )


# --- the header ------------------------------------------------------------------------------------------


def test_header_shows_site_name_unread_count_and_language_switch(client: Client, actors: Actors) -> None:
    from issues.models import Notification

    Notification.objects.create(recipient=actors.community, kind="test", title="新案件")
    Notification.objects.create(recipient=actors.community, kind="test", title="超时提醒")
    Notification.objects.create(recipient=actors.street, kind="test", title="别人的消息")
    html = login(client, actors.community).get(INDEX).content.decode()
    assert "街巷通 · 党员街巷长制工作平台" in html
    assert '<span class="jxt-badge">2</span>' in html
    assert f'action="{reverse("set_language")}"' in html and 'value="en"' in html
    inbox = client.get(url("issues_notification_changelist"), {"read_at__isempty": "1"})
    assert {n.title for n in inbox.context["cl"].result_list} == {"新案件", "超时提醒"}


def test_language_switch_to_english(client: Client, actors: Actors) -> None:
    login(client, actors.community)
    assert "注销" in client.get(INDEX).content.decode()  # Django's own strings, in Chinese by default
    response = client.post(reverse("set_language"), {"language": "en", "next": INDEX})
    assert response.status_code == 302 and response["Location"] == INDEX
    html = client.get(INDEX).content.decode()
    assert "Log out" in html and '<option value="en" selected>' in html
