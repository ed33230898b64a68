"""A local fake of Tencent Cloud's SMS endpoint: an http.server thread recording what the real SDK sends.

``fake_tencent`` (a fixture, imported by the tests that use it) points ``core.sms_providers.
TencentSmsBackend`` at it over http; ``FakeTencent.requests`` are the JSON bodies received (with
their ``X-TC-Action`` header), and ``FakeTencent.answers`` the replies to give next (default: Ok).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pytest_django import Settings

APP_ID = "1400000001"
TEMPLATES = {
    "phone_code": "100001",
    "case_accepted": "100002",
    "case_escalated": "100003",
    "case_resolved": "100004",
    "case_closed": "100005",
}


@dataclass
class FakeTencent:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)

    def sent(self) -> list[tuple[str, str, list[str]]]:
        """(number, template id, parameters) of each SendSms received."""
        return [
            (r["PhoneNumberSet"][0], r["TemplateId"], r["TemplateParamSet"])
            for r, h in zip(self.requests, self.headers, strict=True)
            if h.get("X-TC-Action") == "SendSms"
        ]


def ok(number: str) -> dict[str, Any]:
    return {
        "Response": {
            "SendStatusSet": [
                {
                    "SerialNo": "2645:1",
                    "PhoneNumber": number,
                    "Fee": 1,
                    "Code": "Ok",
                    "Message": "send success",
                }
            ],
            "RequestId": "req-ok",
        }
    }


def error(code: str) -> dict[str, Any]:
    return {"Response": {"Error": {"Code": code, "Message": "fake says no"}, "RequestId": "req-err"}}


def status(number: str, code: str) -> dict[str, Any]:
    return {
        "Response": {
            "SendStatusSet": [
                {"SerialNo": "", "PhoneNumber": number, "Fee": 0, "Code": code, "Message": "no"}
            ],
            "RequestId": "req-status",
        }
    }


@pytest.fixture
def fake_tencent(settings: Settings) -> Iterator[FakeTencent]:
    fake = FakeTencent(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.requests.append(body)
            fake.headers.append({k: v for k, v in self.headers.items()})
            answer = fake.answers.pop(0) if fake.answers else ok(body.get("PhoneNumberSet", [""])[0])
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.JXT_SMS_BACKEND = "core.sms_providers.TencentSmsBackend"
    settings.JXT_SMS_ENDPOINT = fake.url
    settings.JXT_SMS_TENCENT_SECRET_ID = "AKIDfake"
    settings.JXT_SMS_TENCENT_SECRET_KEY = "fake-key"
    settings.JXT_SMS_TENCENT_APP_ID = APP_ID
    settings.JXT_SMS_SIGN_NAME = "街巷通"
    settings.JXT_SMS_TIMEOUT_SECONDS = 5
    settings.JXT_SMS_TEMPLATES = ";".join(
        f"{name}={tid}:code" if name == "phone_code" else f"{name}={tid}:what,link"
        for name, tid in TEMPLATES.items()
    )
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
