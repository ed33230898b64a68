"""Fixtures for the dispatch tests (the same small world as the case tests)."""

from tests.issues.fixtures import _fresh_calendar_and_policies, world

__all__ = ["_fresh_calendar_and_policies", "world"]
