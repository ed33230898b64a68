"""How personal data is masked for everyone who does not handle it: one rule for residents and members."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    """138****1234; short numbers keep only their last two digits."""
    digits = (phone or "").strip()
    if not digits:
        return ""
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


def mask_name(name: str) -> str:
    """张* / 欧阳** : the surname only."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)
