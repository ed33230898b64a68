"""Who logs patrols and visits: one rule, the same on the staff pages and the API (issue 15, defect 5).

The alley's whole team patrols and visits: its chief and deputies, the service team, the
supervision team of retired Party members (督导队, "协助街巷长做好日巡查、周走访") and the grid
workers. The staff pages let all of them log; the API let only chiefs, deputies and grid
workers. Both faces now ask ``issues.patrols``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from alleys.choices import Role
from issues.models import PatrolLog
from tests.factories import UserFactory, World, grant

pytestmark = pytest.mark.django_db

# The web's rule: the alley team of alley X, and the superuser.
MAY = {"chief_x", "deputy_x", "service_x", "supervision_x", "grid_x", "admin"}
ACTORS = sorted(
    MAY | {"chief_y", "community_worker_x", "street_worker", "district_officer", "lead_contact", "nobody"}
)


@pytest.fixture
def team(world: World) -> World:
    world.actors["deputy_x"] = grant(UserFactory(username="deputy_x"), Role.DEPUTY_CHIEF, area=world.alley_x)
    return world


def by_web(world: World, name: str) -> bool:
    client = Client()
    client.force_login(world.actor(name))
    client.post(
        "/staff/patrols/new/",
        {
            "kind": "patrol",
            "alley": world.alley_x.pk,
            "date": timezone.localdate().isoformat(),
            "households_visited": 0,
            "expense_yuan": "0",
            "notes": "巡查",
        },
    )
    return PatrolLog.objects.filter(chief=world.actor(name)).exists()


def by_api(world: World, name: str) -> bool:
    client = APIClient()
    client.force_authenticate(world.actor(name))
    client.post(
        "/api/v1/patrols/",
        {
            "kind": "patrol",
            "alley": world.alley_x.code,
            "date": timezone.localdate().isoformat(),
            "notes": "巡查",
        },
        format="json",
    )
    return PatrolLog.objects.filter(chief=world.actor(name)).exists()


FACES: dict[str, Callable[[World, str], bool]] = {"staff pages": by_web, "API": by_api}


@pytest.mark.parametrize("face", list(FACES))
def test_the_alley_team_logs_patrols_of_its_alley_on_either_face(team: World, face: str) -> None:
    logged = {name: FACES[face](team, name) for name in ACTORS}
    assert logged == {name: name in MAY for name in ACTORS}


def test_both_faces_ask_one_rule(team: World) -> None:
    from issues import forms, patrols
    from issues.api import views as api_views

    for name in ACTORS:
        user: Any = team.actor(name)
        assert patrols.may_log_patrol(user, team.alley_x.code) == (name in MAY), name
        assert (team.alley_x in patrols.patrol_alleys(user)) == (name in MAY), name
    # The faces use the rule's module, not copies of it.
    assert api_views.may_log_patrol is patrols.may_log_patrol
    assert forms.patrol_alleys is patrols.patrol_alleys
