"""The one boundary rule for text: what may enter, and what every renderer may write.

Entering: a NUL byte is refused (PostgreSQL cannot store it, and no keyboard types it: it is a
bug or an attack), and the other characters XML 1.0 forbids (C0 controls but tab, line feed and
carriage return; U+FFFE, U+FFFF; lone surrogates) are removed — a vertical tab pasted from Word
is noise, not a reason to refuse a resident's report. ``core.middleware.TextBoundaryMiddleware``
applies this to every query string, form body and path parameter, ``core.api.parsers`` to every
API body; nothing else needs to.

Leaving: rows written before this rule (or by a migration, a shell) may still hold such
characters, so renderers clean again (``xml_text``, ``spreadsheet_text``), and the middleware
removes them from every HTML and XML response.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .errors import ActionInvalid

NUL = "\x00"
NUL_MESSAGE = _("内容中含有空字符（NUL），无法保存。请删除后重新提交。")
# What XML 1.0 allows is tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD and the astral planes.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# The same in UTF-8 bytes, for whole response bodies: bytes below 0x20 never occur inside a
# multi-byte UTF-8 sequence, so deleting them cannot split a character.
_FORBIDDEN_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_FORBIDDEN_UTF8 = re.compile(b"\xef\xbf[\xbe\xbf]")
# A spreadsheet reads a cell starting with these as a formula (CSV injection); tab and CR too.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# Tags, comments and script URLs: residents and staff writing plain text never need them, and refusing
# them (rather than silently stripping) tells a confused writer what happened. Every form and service
# that takes plain text for public pages asks ``has_markup``.
_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!?]|javascript\s*:", re.IGNORECASE)


def has_markup(value: str) -> bool:
    """Whether ``value`` holds a tag, an HTML comment or a script URL."""
    return bool(_MARKUP.search(value or ""))


def plain_text(value: str, *, field: str, limit: int | None = None, required: str | None = None) -> str:
    """A service's plain-text input, stripped, or ``ActionInvalid`` naming ``field``: empty when ``required``
    (the message), longer than ``limit``, with markup (``has_markup``) or a character no document may hold."""
    try:
        text = clean_input(value or "").strip()
    except ValidationError as exc:
        raise ActionInvalid(exc.messages[0], field=field) from exc
    if required and not text:
        raise ActionInvalid(required, field=field)
    if limit is not None and len(text) > limit:
        raise ActionInvalid(gettext("最多 %(n)d 个字。") % {"n": limit}, field=field)
    if has_markup(text):
        raise ActionInvalid(gettext("请只用文字，不要输入网页代码或“<”开头的标签。"), field=field)
    return text


def has_nul(value: str) -> bool:
    return NUL in value


def strip_forbidden(value: str) -> str:
    """``value`` without the characters XML 1.0 forbids (NUL included)."""
    return _FORBIDDEN.sub("", value)


def clean_input(value: str) -> str:
    """One entered text: NUL refused (``ValidationError``), the other forbidden characters removed."""
    if has_nul(value):
        raise ValidationError(NUL_MESSAGE, code="null_characters_not_allowed")
    return strip_forbidden(value)


def nul_path(data: Any, prefix: str = "") -> str | None:
    """The dotted name of the first text (or key) in ``data`` holding a NUL, if any."""
    if isinstance(data, str):
        return prefix or "non_field_errors" if has_nul(data) else None
    if isinstance(data, Mapping):
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if has_nul(str(key)):
                return name
            if (found := nul_path(value, name)) is not None:
                return found
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            if (found := nul_path(value, f"{prefix}.{index}" if prefix else str(index))) is not None:
                return found
    return None


def strip_structure(data: Any) -> Any:
    """Parsed JSON (dicts, lists, texts, numbers) with every text and key ``strip_forbidden``."""
    if isinstance(data, str):
        return strip_forbidden(data)
    if isinstance(data, dict):
        return {strip_forbidden(str(k)): strip_structure(v) for k, v in data.items()}
    if isinstance(data, list):
        return [strip_structure(v) for v in data]
    return data


def strip_response(content: bytes) -> bytes:
    """A UTF-8 HTML or XML body without the characters XML 1.0 (and HTML's parser) forbids."""
    content = content.translate(None, _FORBIDDEN_BYTES)
    if b"\xef\xbf\xbe" in content or b"\xef\xbf\xbf" in content:
        content = _FORBIDDEN_UTF8.sub(b"", content)
    return content


def xml_text(value: str) -> str:
    """A stored text as it may appear in an XML document."""
    return strip_forbidden(value)


def spreadsheet_text(value: str) -> str:
    """A stored text as a spreadsheet cell: no control characters, never read as a formula."""
    value = strip_forbidden(value)
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value
