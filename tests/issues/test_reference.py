"""The process's copy of the category types: frozen, and each reader gets instances of its own."""

from __future__ import annotations

import pytest
from pytest_django import DjangoAssertNumQueries

from issues import reference
from tests.factories import CategoryTypeFactory

pytestmark = pytest.mark.django_db


def test_category_types_are_frozen_and_read_once(django_assert_num_queries: DjangoAssertNumQueries) -> None:
    category = CategoryTypeFactory(name="占道经营")
    mine = reference.category_by_id(category.pk)
    assert mine is not None and mine.category_class.code == "A"
    mine.name = "changed by one request"
    with django_assert_num_queries(0):
        theirs = reference.category_by_id(category.pk)
        assert theirs is not None and theirs.name == "占道经营"
        assert theirs.category_class.code == "A"  # the class comes with it, no query
    rows = reference.category_rows()
    with pytest.raises(TypeError):
        rows[category.pk] = rows[category.pk]  # type: ignore[index]


def test_a_changed_category_type_is_read_again() -> None:
    category = CategoryTypeFactory(name="占道经营")
    assert reference.category_by_id(category.pk).name == "占道经营"  # type: ignore[union-attr]
    category.name = "店外经营"
    category.save()
    assert reference.category_by_id(category.pk).name == "店外经营"  # type: ignore[union-attr]
