"""The SMS backends: the console and file backends show the text, never the number in clear."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_django import Settings

from core.sms import Sms, send_sms

SMS = Sms(phone="13812345678", template="phone_code", params={"code": "123456"}, text="验证码 123456")


def test_the_console_backend_prints_the_text_with_the_number_masked(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.JXT_SMS_BACKEND = "core.sms.ConsoleBackend"
    send_sms(SMS)
    out = capsys.readouterr().out
    assert "138****5678" in out and "验证码 123456" in out and "13812345678" not in out


def test_the_file_backend_appends_one_json_line_per_message(settings: Settings, tmp_path: Path) -> None:
    settings.JXT_SMS_BACKEND = "core.sms.FileBackend"
    settings.JXT_SMS_FILE = str(tmp_path / "sms" / "out.jsonl")
    send_sms(SMS)
    send_sms(SMS)
    lines = (tmp_path / "sms" / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert (
        first["to"] == "138****5678"
        and first["params"] == {"code": "123456"}
        and first["template"] == "phone_code"
    )
    assert "13812345678" not in lines[0]


def test_the_memory_backend_is_what_the_tests_use(sms_outbox: list[Sms]) -> None:
    send_sms(SMS)
    assert sms_outbox == [SMS]
