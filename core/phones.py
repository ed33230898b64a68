"""Phone numbers as residents type them: one normal form, and the masked form shown to everyone else.

Plumbing shared by the residents' report form (``issues.public.forms``), the one-time codes
(``participation.phones``) and the SMS backends (``core.sms``), so a number typed with full-width
digits, spaces or +86 means the same number everywhere.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")
LANDLINE_RE = re.compile(r"^0[0-9]{9,11}$")


def digits_of(raw: str) -> str:
    """The number without separators or the country code (NFKC turns full-width digits into ASCII)."""
    digits = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", raw or ""))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def normalize_phone(raw: str) -> str:
    """Digits only, without +86; raises ValidationError unless it is a mobile or landline number."""
    digits = digits_of(raw)
    if not (MOBILE_RE.match(digits) or LANDLINE_RE.match(digits)):
        raise ValidationError(
            _("电话号码格式不对：请填写 11 位手机号，或带区号的固定电话（如 0595-22181234）。"), code="phone"
        )
    return digits


def normalize_mobile(raw: str) -> str:
    """An 11-digit mainland mobile number (the only kind that receives an SMS), or ValidationError."""
    digits = digits_of(raw)
    if not MOBILE_RE.match(digits):
        raise ValidationError(_("请填写 11 位手机号码（短信验证码只能发到手机）。"), code="mobile")
    return digits


def is_mobile(number: str) -> bool:
    """True for a normalised mainland mobile number."""
    return bool(MOBILE_RE.match(number or ""))


def mask_number(phone: str) -> str:
    """138****1234; short numbers keep only their last two digits."""
    digits = (phone or "").strip()
    if not digits:
        return ""
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 1) + digits[-2:]
