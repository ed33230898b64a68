"""Fixtures for the staff-site tests: the named world and logged-in clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client

from dispatch.calendar import clear_calendar_cache
from dispatch.deadlines import clear_policy_cache

from .factories import World, build_world


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """The calendar and deadline-policy caches outlive a test's rows; start and end clean."""
    clear_calendar_cache()
    clear_policy_cache()
    yield
    clear_calendar_cache()
    clear_policy_cache()


@pytest.fixture
def world(db: None) -> World:
    return build_world()


@pytest.fixture
def login(world: World) -> Callable[[str], Client]:
    """A client logged in as the named actor."""

    def make(name: str) -> Client:
        client = Client()
        client.force_login(world[name])
        return client

    return make
