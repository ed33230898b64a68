"""An upload handler that drops photos over the count or size limit while the request is still being read.

Django streams uploads to temporary files with no limit of its own (DATA_UPLOAD_MAX_MEMORY_SIZE
counts only the text fields), so without this a resident's 40 MB video or a script's
thousand files would be written to disk before the form could refuse them. Skipped files
are remembered by name so the form can tell the resident which photo was too large.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest


class PhotoLimitHandler(FileUploadHandler):
    """Skips every file after the first ``max_files`` and every file larger than ``max_bytes``."""

    def __init__(self, request: HttpRequest, *, max_files: int, max_bytes: int) -> None:
        super().__init__(request)
        self.max_files = max_files
        self.max_bytes = max_bytes
        self.files_seen = 0
        self.too_big: list[str] = []
        self.too_many = 0
        self._skip_current = False

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.files_seen += 1
        # Skipping happens at the first chunk, not here: Django's parser closes every
        # handler's current file on SkipFile, and here that would still be the previous,
        # accepted photo.
        self._skip_current = self.files_seen > self.max_files
        if self._skip_current:
            self.too_many += 1
        elif self.content_length and self.content_length > self.max_bytes:
            self._skip_current = True
            self.too_big.append(self.file_name or "")

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self._skip_current:
            raise SkipFile
        if start + len(raw_data) > self.max_bytes:
            self.too_big.append(self.file_name or "")
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) keeps the data

    @property
    def skipped(self) -> bool:
        return bool(self.too_big or self.too_many)
