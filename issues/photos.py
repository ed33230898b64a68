"""The case's photos follow the one photo rule of ``core.photos`` (receipts of ``alleys`` too)."""

from __future__ import annotations

from core.photos import ALLOWED_FORMATS, MAX_SIDE, CleanPhoto, clean_photo

__all__ = ["ALLOWED_FORMATS", "MAX_SIDE", "CleanPhoto", "clean_photo"]
