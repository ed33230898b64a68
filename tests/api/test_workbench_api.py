"""The API's share of the workbench: the assignee, internal notes (staff only), progress updates."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from issues.choices import CaseState
from issues.models import CaseNote
from tests.factories import World, make_case

pytestmark = pytest.mark.django_db


def test_take_assign_note_progress_through_the_api(world: World, api_as: Callable[[str], APIClient]) -> None:
    case = make_case(world, state=CaseState.IN_PROGRESS)
    chief = api_as("chief_x")
    taken = chief.post(f"/api/v1/cases/{case.pk}/take/", {}, format="json")
    assert taken.status_code == 200 and taken.json()["assignee"] == world.chief_x.pk
    assert "take" not in taken.json()["allowed_actions"]
    assert chief.post(f"/api/v1/cases/{case.pk}/take/", {}, format="json").status_code == 409
    assigned = chief.post(f"/api/v1/cases/{case.pk}/assign/", {"assignee": world.grid_x.pk}, format="json")
    assert assigned.status_code == 200 and assigned.json()["assignee"] == world.grid_x.pk
    stranger = chief.post(f"/api/v1/cases/{case.pk}/assign/", {"assignee": world.chief_y.pk}, format="json")
    assert stranger.status_code == 400
    assert (
        api_as("street_worker").post(f"/api/v1/cases/{case.pk}/take/", {}, format="json").status_code == 403
    )

    noted = api_as("street_worker").post(
        f"/api/v1/cases/{case.pk}/note/", {"text": "内部备注"}, format="json"
    )
    assert noted.status_code == 200 and "内部备注" not in str(noted.json()["timeline"])
    notes = chief.get(f"/api/v1/cases/{case.pk}/notes/")
    assert notes.status_code == 200 and [n["text"] for n in notes.json()] == ["内部备注"]
    assert api_as("chief_y").get(f"/api/v1/cases/{case.pk}/notes/").status_code == 404
    assert CaseNote.objects.count() == 1

    progress = chief.post(f"/api/v1/cases/{case.pk}/progress/", {"note": "明日完工"}, format="json")
    assert progress.status_code == 200
    assert any(e["note"] == "明日完工" for e in progress.json()["timeline"])
    assert chief.post(f"/api/v1/cases/{case.pk}/progress/", {}, format="json").status_code == 400
