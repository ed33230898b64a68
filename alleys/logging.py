"""A logging filter that masks mobile numbers and secrets in URLs, as a last line of defence.

Code never logs residents' names, phones or addresses on purpose; this filter
catches the accidental case (an exception message quoting a form value). URLs carry two
secrets that every request line would otherwise print: an Open311 client's ``api_key`` and
a resident's tracking code (anyone holding it reads the case). ``mask_url_secrets`` hides
both, here and in gunicorn's access log (``config/access_log.py``).
"""

from __future__ import annotations

import logging
import re

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


# Query parameters whose values are keys or tracking codes (Open311 and the tracking form).
_SECRET_PARAM = re.compile(
    r"((?:^|[?&;\s])(?:api_key|service_request_id|code|token)=)[^&;\s#]*", re.IGNORECASE
)
# Paths that end in a tracking code or an Open311 token.
_SECRET_PATH = re.compile(r"(/(?:track|report/done)/|/open311/v2/(?:requests|tokens)/)[^/?\s.]+")
MASK = "***"


def mask_url_secrets(text: str) -> str:
    """``api_key=***``, ``/track/***/``: keys and tracking codes hidden wherever a URL appears."""
    return _SECRET_PATH.sub(rf"\g<1>{MASK}", _SECRET_PARAM.sub(rf"\g<1>{MASK}", text))


def mask_phone(text: str) -> str:
    """138****1234 for every mainland mobile number in ``text``."""
    return _PHONE.sub(r"\1****\2", text)


class MaskPersonalDataFilter(logging.Filter):
    """Rewrites each record's message with mobile numbers, keys and tracking codes masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a badly formatted record: leave it to the handler
            return True
        masked = mask_url_secrets(mask_phone(message))
        if masked != message:
            record.msg = masked
            record.args = None
        return True
