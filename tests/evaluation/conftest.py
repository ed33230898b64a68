"""Fixtures for the evaluation tests: the casework tests' small named world and fresh caches."""

from tests.issues.fixtures import _fresh_calendar_and_policies, world

__all__ = ["_fresh_calendar_and_policies", "world"]
