"""Admin of participation: each part registers its own models."""

from . import supervision_admin  # noqa: F401
