"""Open311 keys and tracking codes never reach a log in full (issue 14).

gunicorn's access log is checked through gunicorn's own configuration: ``gunicorn.conf.py``
is read as gunicorn reads it, its ``logger_class`` resolved by gunicorn's ``Config``, and a
request's line written to a real file; the application's log through the masking filter.
"""

from __future__ import annotations

import datetime as dt
import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from gunicorn.config import Config

from alleys.logging import MaskPersonalDataFilter, mask_url_secrets

KEY = "k3y-0f-an-open311-client-abcdef"
CODE = "AB3CD4EF"


def gunicorn_access_line(tmp_path: Path, method: str, uri: str, referer: str = "-") -> str:
    cfg = Config()
    conf = runpy.run_path(str(Path(settings.BASE_DIR) / "gunicorn.conf.py"))
    for name, value in conf.items():
        if name in cfg.settings:
            cfg.set(name, value)
    log_file = tmp_path / "access.log"
    cfg.set("accesslog", str(log_file))
    logger = cfg.logger_class(cfg)
    path, _, query = uri.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "RAW_URI": uri,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": referer,
        "HTTP_USER_AGENT": "test",
    }
    response = SimpleNamespace(status="200 OK", sent=123, headers=[])
    request = SimpleNamespace(headers=[("REFERER", referer)])
    logger.access(response, request, environ, dt.timedelta(milliseconds=12))
    for handler in logger.access_log.handlers:
        handler.flush()
        handler.close()
    logger.access_log.handlers.clear()
    return log_file.read_text()


@pytest.mark.parametrize(
    "uri",
    [
        f"/open311/v2/requests.json?api_key={KEY}&status=open",
        f"/track/{CODE}/",
        f"/report/done/{CODE}/",
        f"/open311/v2/requests/{CODE}.json?api_key={KEY}",
        f"/open311/v2/tokens/{CODE}.xml",
        f"/open311/v2/requests.xml?service_request_id={CODE},ZZ9ZZ9ZZ",
    ],
)
def test_gunicorn_access_log_masks_keys_and_codes(tmp_path: Path, uri: str) -> None:
    line = gunicorn_access_line(tmp_path, "GET", uri, referer=f"https://jxt.example/track/{CODE}/")
    assert KEY not in line and CODE not in line, line
    assert "***" in line
    assert '"GET /' in line and " 200 " in line  # still a useful access-log line


def test_the_rest_of_the_line_is_kept(tmp_path: Path) -> None:
    line = gunicorn_access_line(tmp_path, "GET", "/open311/v2/requests.json?status=open&api_key=x")
    assert "/open311/v2/requests.json?status=open&api_key=*** HTTP/1.1" in line
    assert "203.0.113.9" in line


def test_public_pages_are_logged_as_they_are() -> None:
    for text in ("GET /board/ HTTP/1.1", "/open311/v2/requests.json", "/alley/350502001001001/"):
        assert mask_url_secrets(text) == text


def test_the_application_log_masks_codes_and_keys() -> None:
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Not Found: %s",
        (f"/track/{CODE}/?api_key={KEY}",),
        None,
    )
    MaskPersonalDataFilter().filter(record)
    assert record.getMessage() == "Not Found: /track/***/?api_key=***"
