"""Fixtures for the case tests."""

from .fixtures import _fresh_calendar_and_policies, world

__all__ = ["_fresh_calendar_and_policies", "world"]
