"""The API's cheap paths answer what the generic ones answered.

Staff tokens are read with the user and the scope in one statement, the case detail with
its relation flags in one. Nothing is kept between requests: a revoked token, a deactivated
user or a withdrawn role takes effect at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from alleys.choices import Role
from alleys.models import RoleAssignment
from alleys.scoping import _compute
from issues.api.authentication import StaffTokenAuthentication
from issues.api.selectors import visible_case
from issues.models import ApiClient, Case, DispatchOrder
from issues.workflow import case_dispatch
from tests.factories import ACTORS, RoleAssignmentFactory, UserFactory, grant, make_case

pytestmark = pytest.mark.django_db

Api = Callable[[str], APIClient]


@pytest.mark.parametrize("name", [*ACTORS, "admin"])
def test_the_token_gives_the_scope_scope_for_computes(world: Any, name: str) -> None:
    user = world.actor(name)
    grant(user, Role.DEPUTY_CHIEF, area=world.alley_y)  # more than one row to read
    RoleAssignmentFactory(user=user, role=Role.CHIEF, area=world.other_alley, is_active=False)
    key = Token.objects.get_or_create(user=user)[0].key
    with CaptureQueriesContext(connection) as captured:
        authenticated, token = StaffTokenAuthentication().authenticate_credentials(key)
        scope = authenticated._jxt_scope
    assert len(captured) == 1
    assert (authenticated.pk, token.key, token.user_id, token.created) == (
        user.pk,
        key,
        user.pk,
        Token.objects.get(key=key).created,
    )
    fresh = get_user_model().objects.get(pk=user.pk)
    assert [getattr(authenticated, f.attname) for f in fresh._meta.concrete_fields] == [
        getattr(fresh, f.attname) for f in fresh._meta.concrete_fields
    ]
    assert scope == _compute(fresh)


def test_a_user_without_roles_has_an_empty_scope(world: Any, api_as: Api) -> None:
    user: Any = UserFactory(username="nobody")
    key = Token.objects.create(user=user).key
    authenticated, _token = StaffTokenAuthentication().authenticate_credentials(key)
    assert authenticated._jxt_scope.is_empty
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    case = make_case(world)
    response = client.get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_revocation_and_deactivation_take_effect_on_the_next_request(world: Any) -> None:
    case = make_case(world)
    user = world.district_officer
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    url = f"/api/v1/cases/{case.pk}/"
    assert client.get(url).status_code == 200
    # A withdrawn role: the case is out of scope at once.
    RoleAssignment.objects.filter(user=user).update(is_active=False)
    assert client.get(url).status_code == 404
    RoleAssignment.objects.filter(user=user).update(is_active=True)
    assert client.get(url).status_code == 200
    # A deactivated user, then a deleted token: refused at once.
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    response = client.get(url)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    type(user).objects.filter(pk=user.pk).update(is_active=True)
    assert client.get(url).status_code == 200
    token.delete()
    assert client.get(url).status_code == 401


def test_the_detail_is_scoped_like_visible_to(world: Any, api_as: Api) -> None:
    mine, other, far = (
        make_case(world),
        make_case(world, alley=world.alley_y),
        make_case(world, alley=world.other_alley),
    )
    for name in (
        "chief_x",
        "community_worker_x",
        "street_worker",
        "district_officer",
        "lead_contact",
        "admin",
    ):
        user = world.actor(name)
        visible = set(Case.objects.visible_to(user).values_list("pk", flat=True))
        client = api_as(name)
        for case in (mine, other, far):
            assert (visible_case(user, case.pk) is not None) == (case.pk in visible), (name, case.pk)
            status = client.get(f"/api/v1/cases/{case.pk}/").status_code
            assert status == (200 if case.pk in visible else 404), (name, case.pk)


def test_a_department_sees_the_detail_of_a_case_dispatched_to_it(world: Any, api_as: Api) -> None:
    case = make_case(world, tier="district", now=timezone.now() - dt.timedelta(minutes=1))
    client = api_as("lead_contact")
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead, cooperating=[])
    assert DispatchOrder.objects.filter(case=case, department=world.dept_lead).exists()
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert api_as("far_contact").get(f"/api/v1/cases/{case.pk}/").status_code == 404


@pytest.mark.parametrize("pk", ["99999999999999999999999", "-1", "abc", "0"])
def test_odd_ids_are_404_in_the_error_shape(world: Any, api_as: Api, pk: str) -> None:
    response = api_as("admin").get(f"/api/v1/cases/{pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_key_finds_its_client_among_those_sharing_its_prefix(world: Any) -> None:
    made: list[tuple[ApiClient, str]] = []
    for i, active in enumerate((True, True, False)):
        client = ApiClient(name=f"c{i}", area=world.district, is_active=active)
        raw = client.set_new_key()
        if i == 1:  # shares the first key's prefix: both must still be found
            raw = made[0][1][:8] + raw[8:]
            client.key_prefix, client.key_hash = raw[:8], ApiClient.hash_key(raw)
        client.save()
        made.append((client, raw))
    for client, raw in made:
        for wrong in (raw[:-1] + ("A" if raw[-1] != "A" else "B"), raw[:12], ""):
            assert ApiClient.authenticate(wrong) is None
        found = ApiClient.authenticate(raw)
        assert (found and found.pk) == (client.pk if client.is_active else None)
        if found is not None:
            with CaptureQueriesContext(connection) as captured:
                assert found.area.code == world.district.code
            assert len(captured) == 0
