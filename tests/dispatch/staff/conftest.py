"""The staff-site fixtures (world, login) for the dispatch pages."""

from tests.issues.staff.conftest import _fresh_caches, login, world

__all__ = ["_fresh_caches", "login", "world"]
