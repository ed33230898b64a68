"""The evaluation admin: every page opens; records are read-only; the weights are one editable row."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from evaluation.models import RateWeights

pytestmark = pytest.mark.django_db

MODELS = [
    "departmentevaluation",
    "survey",
    "annualassessment",
    "rateweights",
    "exportlog",
    "rollupstate",
]


def test_every_changelist_opens_for_a_superuser(client: Any, world: Any) -> None:
    client.force_login(world.admin)
    for model in MODELS:
        assert client.get(reverse(f"admin:evaluation_{model}_changelist")).status_code == 200, model


def test_weights_one_row_superuser_edits_org_reads(client: Any, world: Any) -> None:
    weights = RateWeights.current()
    client.force_login(world.admin)
    change = reverse("admin:evaluation_rateweights_change", args=[weights.pk])
    response = client.post(change, {"response": 40, "resolution": 30, "satisfaction": 30})
    assert response.status_code == 302
    weights.refresh_from_db()
    assert (weights.response, weights.resolution, weights.satisfaction) == (40, 30, 30)
    assert client.get(reverse("admin:evaluation_rateweights_add")).status_code == 403  # one row only
    world.district_officer.is_staff = True
    world.district_officer.save()
    client.force_login(world.district_officer)
    assert client.get(change).status_code == 200
    client.post(change, {"response": 1, "resolution": 1, "satisfaction": 1})
    weights.refresh_from_db()
    assert weights.response == 40  # read-only for the organisation department


def test_evaluation_records_are_read_only(client: Any, world: Any) -> None:
    client.force_login(world.admin)
    assert client.get(reverse("admin:evaluation_departmentevaluation_add")).status_code == 403
    assert client.get(reverse("admin:evaluation_survey_add")).status_code == 403
    assert client.get(reverse("admin:evaluation_annualassessment_add")).status_code == 403
