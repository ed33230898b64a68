"""core/text: the one boundary rule for text, in and out."""

from __future__ import annotations

from xml.dom import minidom

import pytest
from django.core.exceptions import ValidationError

from core.text import (
    clean_input,
    nul_path,
    spreadsheet_text,
    strip_forbidden,
    strip_response,
    strip_structure,
)

# Every character XML 1.0 forbids that a Python str (and so a database row) can hold.
FORBIDDEN = "".join(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r") + "\ufffe\uffff"


def test_nul_is_refused_with_a_chinese_message() -> None:
    with pytest.raises(ValidationError) as caught:
        clean_input("路灯\x00不亮")
    assert "空字符" in caught.value.messages[0]


def test_other_forbidden_characters_are_removed_and_the_text_kept() -> None:
    assert clean_input("路灯\x0b不亮\x1f\ufffe") == "路灯不亮"
    assert clean_input("第一行\r\n\t第二行") == "第一行\r\n\t第二行"
    assert strip_forbidden(f"a{FORBIDDEN}\ud800b") == "ab"


def test_structures_name_the_first_nul_at_any_depth() -> None:
    assert nul_path({"a": "ok", "b": [{"c": "x\x00"}]}) == "b.0.c"
    assert nul_path({"k\x00": 1}) == "k\x00"
    assert nul_path({"a": ["ok", 1, None]}) is None
    assert strip_structure({"a\x0b": ["b\x0c", 1]}) == {"a": ["b", 1]}


def test_a_response_body_with_any_forbidden_character_parses() -> None:
    body = f"<r>路灯{FORBIDDEN}不亮</r>".encode()
    assert minidom.parseString(strip_response(body)).documentElement.firstChild.data == "路灯不亮"  # noqa: S318


@pytest.mark.parametrize("text", ["=1+2", "+86 138", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_spreadsheet_text_is_never_a_formula(text: str) -> None:
    assert spreadsheet_text(text).startswith("'")


def test_spreadsheet_text_keeps_ordinary_text() -> None:
    assert spreadsheet_text("路灯\x0b不亮") == "路灯不亮"
    assert spreadsheet_text("1-2") == "1-2"
