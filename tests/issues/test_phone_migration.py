"""Migration issues/0023: reporters' numbers stored as typed before case_submit normalised them."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from issues.models import Case
from tests.factories import World, make_case

pytestmark = pytest.mark.django_db

migration = importlib.import_module("issues.migrations.0023_normalize_reporter_phones")


def test_numbers_typed_before_are_put_in_the_one_form_and_the_rest_kept(world: World) -> None:
    stored = {
        "+86 138-1234-5678": "13812345678",  # an Open311 client's
        "１３９１２３４５６７８": "13912345678",  # full-width digits from a hotline form
        "8613712345678": "13712345678",
        "0595-2218 1234": "059522181234",
        "13600001111": "13600001111",  # already in form: not read
        "12345": "12345",  # no phone number: kept as typed for the staff
        "": "",
    }
    cases = {}
    for typed in stored:
        case = make_case(world)
        Case.objects.filter(pk=case.pk).update(reporter_phone=typed)
        cases[typed] = case.pk
    migration.normalize(apps, None)
    for typed, kept in stored.items():
        assert Case.objects.get(pk=cases[typed]).reporter_phone == kept, typed
