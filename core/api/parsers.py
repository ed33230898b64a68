"""The API's body parsers with the text boundary (``core.text``): NUL refused, forbidden characters removed.

Query strings and form bodies are already checked by ``core.middleware.TextBoundaryMiddleware``;
a JSON body is only parsed here, so this is where its texts (and keys, at any depth) meet the rule.
Form bodies are cleaned again because DRF parses an urlencoded body from the raw bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from rest_framework import parsers, serializers

from ..text import NUL_MESSAGE, nul_path, strip_forbidden, strip_structure


def _refuse_nul(data: Any) -> None:
    if (path := nul_path(data)) is not None:
        raise serializers.ValidationError({strip_forbidden(path): [NUL_MESSAGE]})


def _clean_form(data: QueryDict) -> QueryDict:
    out = QueryDict(mutable=True, encoding=data.encoding)
    for key, values in data.lists():
        out.setlist(strip_forbidden(key), [strip_forbidden(v) if isinstance(v, str) else v for v in values])
    return out


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, then the text boundary over the whole document."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        data = super().parse(stream, media_type, parser_context)
        _refuse_nul(data)
        return strip_structure(data)


class FormParser(parsers.FormParser):
    """DRF's urlencoded parser, then the text boundary."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        data = super().parse(stream, media_type, parser_context)
        _refuse_nul({k: v for k, v in data.lists()})
        return _clean_form(data)


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, then the text boundary over the fields (files are left alone)."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        result = super().parse(stream, media_type, parser_context)
        _refuse_nul({k: v for k, v in result.data.lists()})
        return parsers.DataAndFiles(_clean_form(result.data), result.files)
