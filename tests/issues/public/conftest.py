"""Fixtures for the residents' channel: the named world with an alley board and form categories."""

from __future__ import annotations

import pytest

from tests.factories import World

from .helpers import Place, build_place


@pytest.fixture
def place(world: World) -> Place:
    return build_place(world)
