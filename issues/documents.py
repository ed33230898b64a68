"""Document intake (meeting attachments, standing-mechanism documents): type by content, size, no macros.

The photos' rule (``issues.photos``) applied to office documents: what the client says a file
is (its name, its Content-Type) decides nothing. The bytes must be a PDF, a Word (.docx) or
Excel (.xlsx) file, or a photo; a photo is re-encoded by ``clean_photo`` (EXIF and GPS gone).
Office files are zip packages: they must open, carry the parts of their kind, no macro project
(a .docm renamed .docx) and no encrypted or oversized member (a zip bomb). The stored name is
random (``issues.models.meetings.document_path``); the name a person downloads is the uploader's,
cleaned, with the extension the content was found to be. Files are served only by views that
check who may see the meeting or mechanism, always as a download (never rendered in the page).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.http import FileResponse
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from core.photos import clean_photo

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JPEG = "image/jpeg"
# Content type → extension of the stored file and of the download.
EXTENSIONS: dict[str, str] = {PDF: "pdf", DOCX: "docx", XLSX: "xlsx", JPEG: "jpg"}
CONTENT_TYPES: tuple[str, ...] = tuple(EXTENSIONS)

# An office package this many times larger unpacked than packed, or this large, is refused.
_MAX_UNPACKED_RATIO = 100
_MAX_UNPACKED_BYTES = 200 * 1024 * 1024
_MAX_MEMBERS = 5000
_NAME_CHARS = 80


@dataclass(frozen=True)
class CleanDocument:
    """A checked document: its bytes (as a file to save), the name to download it by, its type and size."""

    content: ContentFile[bytes]
    name: str
    content_type: str
    size: int


def max_bytes() -> int:
    return int(settings.JXT_MAX_DOCUMENT_BYTES)


def clean_document(upload: IO[bytes], *, name: str | None = None) -> CleanDocument:
    """Check an uploaded document by its content; raises ValidationError with a message to act on."""
    limit = max_bytes()
    declared = getattr(upload, "size", None)
    if declared is not None and declared > limit:
        raise ValidationError(
            _("文件太大（%(size).1f MB），不能超过 %(max)d MB。")
            % {"size": declared / 1024 / 1024, "max": limit // 1024 // 1024}
        )
    try:
        upload.seek(0)
        data = upload.read(limit + 1)
    except Exception as exc:
        raise ValidationError(_("文件读取失败，请重新选择。")) from exc
    if len(data) > limit:
        raise ValidationError(_("文件太大，不能超过 %(max)d MB。") % {"max": limit // 1024 // 1024})
    if not data:
        raise ValidationError(_("文件是空的，请重新选择。"))
    original = name if name is not None else str(getattr(upload, "name", "") or "")
    content_type, data = _sniff(data)
    shown = download_name(original, content_type)
    return CleanDocument(
        content=ContentFile(data, name=f"upload.{EXTENSIONS[content_type]}"),
        name=shown,
        content_type=content_type,
        size=len(data),
    )


def download_name(original: str, content_type: str) -> str:
    """The uploader's file name, cleaned, with the extension the content was found to be."""
    stem = original.replace("\\", "/").rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    try:
        stem = get_valid_filename(stem)[:_NAME_CHARS]
    except Exception:  # nothing usable left (Django refuses "" and "..")
        stem = ""
    return f"{stem or _('附件')}.{EXTENSIONS[content_type]}"


def _sniff(data: bytes) -> tuple[str, bytes]:
    """The content type the bytes are, and the bytes to store (a photo re-encoded)."""
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise ValidationError(_("PDF 文件不完整，请重新导出后上传。"))
        return PDF, data
    if data.startswith(b"PK\x03\x04"):
        return _office(data), data
    try:
        photo = clean_photo(io.BytesIO(data), size=len(data))
    except ValidationError:
        raise ValidationError(
            _("只能上传 PDF、Word（.docx）、Excel（.xlsx）文件或照片；旧版 .doc/.xls 请另存为新格式。")
        ) from None
    photo.seek(0)
    return JPEG, photo.read()


def _office(data: bytes) -> str:
    """A .docx or .xlsx package, checked without unpacking more than its table of contents."""
    refused = ValidationError(_("文件已损坏，或不是 Word（.docx）、Excel（.xlsx）文件。"))
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        members = package.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise refused from None
    if len(members) > _MAX_MEMBERS:
        raise refused
    names = {m.filename for m in members}
    unpacked = sum(m.file_size for m in members)
    if unpacked > _MAX_UNPACKED_BYTES or unpacked > _MAX_UNPACKED_RATIO * max(len(data), 1):
        raise refused
    if any(m.flag_bits & 0x1 for m in members):
        raise ValidationError(_("不能上传加密的文件，请去掉密码后再上传。"))
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise ValidationError(_("文件含有宏，不能上传；请另存为不含宏的 .docx 或 .xlsx。"))
    if "[Content_Types].xml" not in names:
        raise refused
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    raise refused


def download_response(handle: IO[bytes], *, name: str, content_type: str) -> FileResponse:
    """A stored document as a download: never rendered in the page, never sniffed, never kept by a shared cache."""
    response = FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
