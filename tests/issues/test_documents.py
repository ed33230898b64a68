"""issues/documents.py: documents are what their bytes are, whatever their name or header says."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pytest_django import Settings

from issues.documents import DOCX, JPEG, PDF, XLSX, clean_document

PDF_BYTES = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def package(*members: tuple[str, bytes], encrypted: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for name, data in members:
            out.writestr(name, data)
    data = buffer.getvalue()
    if encrypted:  # zipfile writes no encrypted members: set the flag bit in the central directory
        raw = bytearray(data)
        at = raw.find(b"PK\x01\x02")
        while at != -1:
            raw[at + 8] |= 0x1
            at = raw.find(b"PK\x01\x02", at + 4)
        data = bytes(raw)
    return data


DOCX_BYTES = package(("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w:document/>"))
XLSX_BYTES = package(("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook/>"))


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.mark.parametrize(
    ("name", "data", "kind", "shown"),
    [
        ("纪要.pdf", PDF_BYTES, PDF, "纪要.pdf"),
        ("scan.PDF.exe", PDF_BYTES, PDF, "scan.PDF.pdf"),
        ("方案.docx", DOCX_BYTES, DOCX, "方案.docx"),
        ("签到表.xlsx", XLSX_BYTES, XLSX, "签到表.xlsx"),
        ("../../etc/passwd", PDF_BYTES, PDF, "passwd.pdf"),
        (".pdf", PDF_BYTES, PDF, "附件.pdf"),
    ],
)
def test_accepted_by_content_with_a_clean_name(name: str, data: bytes, kind: str, shown: str) -> None:
    document = clean_document(upload(name, data, "text/html"))
    assert (document.content_type, document.name, document.size) == (kind, shown, len(data))
    assert document.content.read() == data


def test_a_photo_is_re_encoded_without_its_metadata() -> None:
    buffer = io.BytesIO()
    image = Image.new("RGB", (64, 48), "red")
    exif = image.getexif()
    exif[0x010F] = "PhoneMaker"  # Make
    image.save(buffer, format="JPEG", exif=exif)
    document = clean_document(upload("现场.jpg", buffer.getvalue()))
    assert document.content_type == JPEG and document.name == "现场.jpg"
    assert b"PhoneMaker" not in document.content.read()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"MZ\x90\x00" + b"\0" * 100, "只能上传"),
        (b"<html><script>alert(1)</script></html>", "只能上传"),
        (b"%PDF-1.4 truncated", "不完整"),
        (
            package(
                ("[Content_Types].xml", b"x"), ("word/document.xml", b"x"), ("word/vbaProject.bin", b"x")
            ),
            "宏",
        ),
        (package(("[Content_Types].xml", b"x"), ("word/document.xml", b"x"), encrypted=True), "加密"),
        (package(("word/document.xml", b"x")), "损坏"),
        (package(("[Content_Types].xml", b"x"), ("mimetype", b"x")), "损坏"),
        (b"PK\x03\x04 not a zip", "损坏"),
        (package(("[Content_Types].xml", b"x"), ("word/document.xml", b"\0" * 5_000_000)), "损坏"),
        (b"", "空"),
    ],
)
def test_refused(data: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        clean_document(upload("plan.docx", data, "application/pdf"))


def test_the_size_limit(settings: Settings) -> None:
    settings.JXT_MAX_DOCUMENT_BYTES = 1024
    with pytest.raises(ValidationError, match="太大"):
        clean_document(upload("big.pdf", b"%PDF-1.4\n" + b"0" * 2000 + b"\n%%EOF"))
