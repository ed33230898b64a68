"""Fixtures shared by tests/issues and tests/dispatch (imported by both conftest files)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dispatch.calendar import clear_calendar_cache
from dispatch.deadlines import clear_policy_cache

from .factories import World, build_world


@pytest.fixture(autouse=True)
def _fresh_calendar_and_policies() -> Iterator[None]:
    """The calendar and policy caches live for a minute per process: never let one test's rows leak."""
    clear_calendar_cache()
    clear_policy_cache()
    yield
    clear_calendar_cache()
    clear_policy_cache()


@pytest.fixture
def world(db: None) -> World:
    return build_world()
