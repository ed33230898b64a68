"""Reference data kept per process: read once, dropped on a change here or in any other process."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from pytest_django import DjangoAssertNumQueries

from alleys import reference
from alleys.choices import AreaLevel
from alleys.models import Area
from tests.factories import Tree

pytestmark = pytest.mark.django_db


def test_an_area_is_read_once(tree: Tree, django_assert_num_queries: DjangoAssertNumQueries) -> None:
    code = tree["d1s1c1a1"].code
    with django_assert_num_queries(1):
        assert reference.area_by_code(code) == tree["d1s1c1a1"]
        assert reference.area_by_code(code) == tree["d1s1c1a1"]
        assert reference.area_by_id(tree["d1s1c1a1"].pk) == tree["d1s1c1a1"]
    with django_assert_num_queries(1):  # the areas above it, in one query
        chain = reference.chain_above(tree["d1s1c1a1"])
    assert [a.level for a in chain] == [
        AreaLevel.CITY,
        AreaLevel.DISTRICT,
        AreaLevel.STREET,
        AreaLevel.COMMUNITY,
    ]


def test_an_unknown_code_is_always_asked(
    tree: Tree, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_num_queries(2):
        assert reference.area_by_code("350502001001999") is None
        assert reference.area_by_code("350502001001999") is None


def test_a_change_in_this_process_is_seen_at_once(tree: Tree) -> None:
    assert reference.area_by_code(tree["d1s1c1a1"].code).is_active  # type: ignore[union-attr]
    Area.objects.filter(pk=tree["d1s1c1a1"].pk).get().save()  # any save drops the copy
    tree["d1s1c1a1"].is_active = False
    tree["d1s1c1a1"].save()
    assert not reference.area_by_code(tree["d1s1c1a1"].code).is_active  # type: ignore[union-attr]


def test_a_change_in_another_process_is_seen_within_the_recheck(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another worker's save bumps the shared stamp; this process compares it at most once a second."""
    clock = [1000.0]
    monkeypatch.setattr(reference.time, "monotonic", lambda: clock[0])
    assert reference.area_by_code(tree["d1s1c1a1"].code).name == tree["d1s1c1a1"].name  # type: ignore[union-attr]
    # The other process: a direct UPDATE (no signal here) and its bump after commit.
    Area.objects.filter(pk=tree["d1s1c1a1"].pk).update(name="renamed")
    cache.set("refdata:areas", "another-process")
    assert reference.area_by_code(tree["d1s1c1a1"].code).name == tree["d1s1c1a1"].name  # type: ignore[union-attr]
    clock[0] += 1.5
    assert reference.area_by_code(tree["d1s1c1a1"].code).name == "renamed"  # type: ignore[union-attr]


def test_a_write_without_signal_or_stamp_expires(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(reference.time, "monotonic", lambda: clock[0])
    reference.area_by_code(tree["d1s1c1a1"].code)
    Area.objects.filter(pk=tree["d1s1c1a1"].pk).update(name="renamed")
    clock[0] += 590
    assert reference.area_by_code(tree["d1s1c1a1"].code).name == tree["d1s1c1a1"].name  # type: ignore[union-attr]
    clock[0] += 11  # ten minutes after it was read
    assert reference.area_by_code(tree["d1s1c1a1"].code).name == "renamed"  # type: ignore[union-attr]


def test_a_broken_shared_cache_costs_a_read_not_an_error(
    tree: Tree, monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    class BrokenCache:
        def get(self, *_args: object, **_kwargs: object) -> None:
            raise ConnectionError("the cache is down")

    monkeypatch.setattr(reference, "cache", BrokenCache())
    with django_assert_num_queries(2):
        assert reference.area_by_code(tree["d1s1c1a1"].code) == tree["d1s1c1a1"]
        assert reference.area_by_code(tree["d1s1c1a1"].code) == tree["d1s1c1a1"]


def test_one_call_clears_every_process_cache(
    tree: Tree, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    from dispatch.calendar import get_calendar
    from issues.public.limits import code_budget

    code = tree["d1s1c1a1"].code
    reference.area_by_code(code)
    calendar = get_calendar()
    code_budget.blocks.block("10.0.0.9", 60)
    with django_assert_num_queries(0):  # all kept in the process
        assert reference.area_by_code(code) == tree["d1s1c1a1"]
        assert get_calendar() is calendar
    reference.clear_process_caches()
    assert not code_budget.blocks.blocked("10.0.0.9")
    assert get_calendar() is not calendar
    with django_assert_num_queries(1):
        assert reference.area_by_code(code) == tree["d1s1c1a1"]


def test_cached_values_are_immutable_and_every_reader_gets_its_own_instance(
    tree: Tree, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    import dataclasses

    alley = tree["d1s1c1a1"]
    first = reference.area_by_id(alley.pk)
    assert first is not None
    first.name = "changed by one request"  # its own copy: nobody else sees this
    with django_assert_num_queries(0):
        second = reference.area_by_id(alley.pk)
        row = reference.area_row_by_id(alley.pk)
    assert second is not None and second is not first
    assert second.name == alley.name
    assert row is not None and row.get("name") == alley.name
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.values = ("x",)  # type: ignore[misc]
    with pytest.raises(TypeError):
        row.values[1] = "x"  # type: ignore[index]


def test_an_alley_without_a_profile_costs_no_query_once_read(
    tree: Tree, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    alley = tree["d1s1c1a1"]
    reference.area_by_id(alley.pk)
    with django_assert_num_queries(0):
        area = reference.area_by_id(alley.pk)
        assert area is not None and reference.profile_of(area) is None


def test_the_frozen_copy_holds_every_column() -> None:
    from alleys.models import AlleyProfile, Department

    for model in (Area, AlleyProfile, Department):
        names = {f.attname for f in model._meta.concrete_fields}
        row = reference.FrozenRow.of(model())
        assert set(row.names) == names, model
