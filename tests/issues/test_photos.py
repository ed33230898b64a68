"""issues/photos.py: photos are checked by content, bounded, and re-encoded without EXIF."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pytest_django import Settings

from issues.photos import clean_photo
from tests.factories import build_world

CHINESE = re.compile(r"[\u4e00-\u9fff]")
GPS_IFD = 0x8825


def jpeg_bytes(*, gps: bool = False, size: tuple[int, int] = (64, 48)) -> SimpleUploadedFile:
    """A real small JPEG, optionally carrying an EXIF GPS position and a camera model."""
    image = Image.new("RGB", size, (200, 80, 30))
    exif = Image.Exif()
    if gps:
        exif[0x0110] = "PhoneCam X"  # Model
        exif[GPS_IFD] = {1: "N", 2: (24.0, 54.0, 30.0), 3: "E", 4: (118.0, 35.0, 10.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return SimpleUploadedFile("IMG_0001.jpg", out.getvalue(), content_type="image/jpeg")


def png_claiming(width: int, height: int) -> SimpleUploadedFile:
    """A tiny 1-bit PNG whose header claims ``width``×``height`` pixels (a decompression bomb's shape)."""
    out = io.BytesIO()
    Image.new("1", (8, 8)).save(out, format="PNG")
    data = bytearray(out.getvalue())
    # The IHDR chunk sits right after the 8-byte signature: length(4) type(4) width(4) height(4) ...
    ihdr_start = 8 + 8
    data[ihdr_start : ihdr_start + 8] = struct.pack(">II", width, height)
    ihdr = bytes(data[12 : 12 + 4 + 13])
    data[12 + 4 + 13 : 12 + 4 + 13 + 4] = struct.pack(">I", zlib.crc32(ihdr) & 0xFFFFFFFF)
    return SimpleUploadedFile("bomb.png", bytes(data), content_type="image/png")


def test_a_jpeg_with_gps_is_reencoded_without_exif() -> None:
    upload = jpeg_bytes(gps=True)
    original = Image.open(io.BytesIO(upload.read()))
    assert original.getexif().get_ifd(GPS_IFD), "the fixture must really carry GPS"
    cleaned = clean_photo(upload)
    data = cleaned.read()
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (64, 48)
    assert dict(image.getexif()) == {}
    assert b"Exif" not in data and b"PhoneCam" not in data
    assert cleaned.name.endswith(".jpg") and "IMG_0001" not in cleaned.name


def test_large_photos_are_downscaled() -> None:
    cleaned = clean_photo(jpeg_bytes(size=(3000, 1000)))
    assert Image.open(io.BytesIO(cleaned.read())).size == (2560, 853)


def test_a_text_file_renamed_jpg_is_refused_in_chinese() -> None:
    fake = SimpleUploadedFile("photo.jpg", b"hello, this is not a picture\n" * 10, content_type="image/jpeg")
    with pytest.raises(ValidationError) as exc:
        clean_photo(fake)
    [message] = exc.value.messages
    assert CHINESE.search(message) and "图片" in message


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(ValidationError, match="空文件"):
        clean_photo(SimpleUploadedFile("a.jpg", b""))


def test_an_oversized_file_is_refused(settings: Settings) -> None:
    settings.JXT_MAX_PHOTO_BYTES = 1024
    upload = jpeg_bytes(size=(400, 400))
    assert upload.size > 1024
    with pytest.raises(ValidationError) as exc:
        clean_photo(upload)
    assert "太大" in exc.value.messages[0]
    # Even when the upload does not say its size, reading stops past the limit.
    stream = io.BytesIO(jpeg_bytes(size=(400, 400)).read())
    with pytest.raises(ValidationError, match="太大"):
        clean_photo(stream)


def test_a_pixel_bomb_is_refused_before_decoding() -> None:
    bomb = png_claiming(30000, 30000)
    data = bomb.read()
    assert len(data) < 1000
    assert struct.unpack(">II", data[16:24]) == (30000, 30000)
    bomb.seek(0)
    with pytest.raises(ValidationError) as exc:
        clean_photo(bomb)
    assert CHINESE.search(exc.value.messages[0])


@pytest.mark.parametrize("side", [30000, 10000])
def test_a_pixel_bomb_is_told_it_has_too_many_pixels(side: int) -> None:
    with pytest.raises(ValidationError) as exc:
        clean_photo(png_claiming(side, side))
    assert "像素过大" in exc.value.messages[0]


def test_a_photo_just_over_the_pixel_limit_is_told_so(settings: Settings) -> None:
    settings.JXT_MAX_PHOTO_PIXELS = 1000
    with pytest.raises(ValidationError, match="像素过大"):
        clean_photo(jpeg_bytes(size=(100, 100)))


def test_an_unsupported_format_is_refused() -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="TIFF")
    with pytest.raises(ValidationError, match="格式"):
        clean_photo(SimpleUploadedFile("a.jpg", out.getvalue()))


def test_a_cleaned_photo_is_not_decoded_again() -> None:
    cleaned = clean_photo(jpeg_bytes(gps=True))
    assert clean_photo(cleaned) is cleaned


@pytest.mark.django_db
def test_a_submitted_photo_is_stored_as_it_was_first_re_encoded() -> None:
    """The form checks the photo, the intake service again, attaching it a third time: one re-encoding."""
    from issues.workflow import case_submit

    world = build_world()
    out = io.BytesIO()
    Image.effect_noise((640, 480), 60).convert("RGB").save(out, format="JPEG", quality=95)
    raw = SimpleUploadedFile("IMG_0002.jpg", out.getvalue(), content_type="image/jpeg")
    once = clean_photo(raw).read()
    raw.seek(0)
    cleaned = clean_photo(raw)
    case = case_submit(category=world.cat_a, alley=world.alley_x, description="路灯坏了", photos=[cleaned])
    with case.photos.get().image.open("rb") as stored:
        data = stored.read()
    assert data == cleaned.read()
    assert Image.open(io.BytesIO(data)).size == (640, 480)
    # A second re-encoding of a JPEG changes its bytes (that is what would show here).
    assert clean_photo(SimpleUploadedFile("again.jpg", once, content_type="image/jpeg")).read() != once
