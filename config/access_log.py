"""gunicorn's access log with Open311 keys and tracking codes masked.

``access_log_format`` can only pick fields, not filter them, so gunicorn is given this
logger through its documented ``logger_class`` setting (``gunicorn.conf.py``): the default
logger, with every field it would print (request line, path, query, Referer and the other
headers) passed through ``alleys.logging.mask_url_secrets`` first.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from alleys.logging import mask_url_secrets


class MaskedAccessLogger(Logger):
    """gunicorn's default logger; the access log's fields are masked."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        fields = super().atoms(resp, req, environ, request_time)
        return {
            key: mask_url_secrets(value) if isinstance(value, str) else value for key, value in fields.items()
        }
