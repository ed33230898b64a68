"""Admin of the issues app.

The taxonomy admin lives in its own module (owned with the territory admin); the
case admin is added here. Importing the module registers its ModelAdmins.
"""

from __future__ import annotations

from . import admin_apiclients, admin_categories  # noqa: F401
