"""How a member's phone is masked for everyone who does not handle it (138****1234).

The residents' mask is ``issues.privacy.mask_phone`` (the same rule); ``members`` may not import
``issues``, so the rule is here for it. On main the residents' mask has moved to
``core.phones.mask_number``: once merged, ``members`` uses that and this module goes.
"""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    """138****1234; short numbers keep only their last two digits."""
    digits = (phone or "").strip()
    if not digits:
        return ""
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 1) + digits[-2:]
