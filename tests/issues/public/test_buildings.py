"""The residents' form where the alley has buildings (楼栋): an optional choice, a building's own QR code."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from issues.models import Case
from tests.factories import build_buildings

from .helpers import Place, post_report, report_data, text_of

pytestmark = pytest.mark.django_db


def test_an_alley_without_buildings_shows_the_form_as_before(client: Client, place: Place) -> None:
    html = text_of(client.get(place.form_url))
    assert 'name="building"' not in html
    assert post_report(client, place).status_code == 302
    assert Case.objects.get().building is None


def test_the_alleys_buildings_are_an_optional_choice(client: Client, place: Place) -> None:
    b = build_buildings(place.world)
    html = text_of(client.get(place.form_url))
    assert '<select name="building" id="id_building"' in html
    assert "1号楼" in html and "2号楼" in html
    assert b.other_alley.code not in html  # another alley's building
    # Not choosing is fine.
    assert post_report(client, place).status_code == 302
    assert Case.objects.get().building is None


def test_a_chosen_building_is_filed_with_the_case(client: Client, place: Place) -> None:
    b = build_buildings(place.world)
    response = post_report(client, place, building=b.two.code)
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.building == b.two and case.alley == place.alley


def test_another_alleys_building_is_refused_and_the_form_kept(client: Client, place: Place) -> None:
    b = build_buildings(place.world)
    response = post_report(client, place, building=b.other_alley.code)
    html = text_of(response)
    assert response.status_code == 200
    assert "所选楼栋不在这条街巷" in html
    assert "巷口第二根路灯不亮三天了" in html
    assert Case.objects.count() == 0


def test_a_buildings_qr_code_opens_the_alleys_form_with_the_building_chosen(
    client: Client, place: Place
) -> None:
    b = build_buildings(place.world)
    url = reverse("alley-short", kwargs={"code": b.one.code})
    html = text_of(client.get(url))
    assert place.alley.name in html
    assert f'<option value="{b.one.code}" selected>' in html
    response = client.post(url, {**report_data(place), "building": b.one.code}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 302
    assert Case.objects.get().building == b.one


def test_an_inactive_building_is_neither_offered_nor_opened(client: Client, place: Place) -> None:
    b = build_buildings(place.world)
    b.two.is_active = False
    b.two.save()
    assert "2号楼" not in text_of(client.get(place.form_url))
    assert client.get(reverse("alley-short", kwargs={"code": b.two.code})).status_code == 404
