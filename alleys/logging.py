"""A logging filter that masks mobile numbers, as a last line of defence.

Code never logs residents' names, phones or addresses on purpose; this filter
catches the accidental case (an exception message quoting a form value).
"""

from __future__ import annotations

import logging
import re

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_phone(text: str) -> str:
    """138****1234 for every mainland mobile number in ``text``."""
    return _PHONE.sub(r"\1****\2", text)


class MaskPersonalDataFilter(logging.Filter):
    """Rewrites each record's message with mobile numbers masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a badly formatted record: leave it to the handler
            return True
        masked = mask_phone(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True
