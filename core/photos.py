"""Photo intake (case photos, receipts, service photos): check by content, limit size and pixels, strip EXIF, re-encode as JPEG.

Two halves, because decoding and re-encoding a phone photo is the costly part of a report:

- ``check_photo`` is what a request must know at once: the type by content (Pillow's format
  probe, never the name or the browser's word), the size in bytes, the pixel count from the
  header and Pillow's structural ``verify()``; no full decode, no re-encode. It returns the
  raw bytes (``CheckedPhoto``), which must not be shown to anyone before the second half ran.
- ``reencode`` decodes fully, turns the image upright, downscales and writes a fresh JPEG,
  which drops EXIF (including GPS) and any payload hidden after the image. Case photos run it
  in a task (``issues.photos``); ``clean_photo`` runs both halves at once for the low-volume
  staff uploads (chiefs' receipts, members' service photos, meeting documents).
"""

from __future__ import annotations

import io
import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO"}
MAX_SIDE = 2560  # re-encoded photos are downscaled to this; enough for a street light


class CheckedPhoto(ContentFile):
    """An upload's raw bytes that passed ``check_photo`` (only it makes these); not yet re-encoded."""

    def __init__(self, content: bytes, *, name: str, image_format: str, width: int, height: int) -> None:
        super().__init__(content, name=name)
        self.image_format = image_format
        self.width = width
        self.height = height


class CleanPhoto(ContentFile):
    """A photo ``clean_photo`` has already checked and re-encoded (only it makes these)."""


def check_photo(upload: IO[bytes], *, size: int | None = None) -> CheckedPhoto:
    """The checks a request makes at once; the raw bytes back, to be re-encoded later.

    Raises ValidationError with a message a resident can act on. A photo this function
    returned comes back as it is (the form checks, the intake service checks again).
    """
    if isinstance(upload, CheckedPhoto):
        return upload
    max_bytes = settings.JXT_MAX_PHOTO_BYTES
    if size is None:
        size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationError(
            _("照片太大（%(size).1f MB），每张不能超过 %(max)d MB。")
            % {"size": size / 1024 / 1024, "max": max_bytes // 1024 // 1024}
        )
    try:
        upload.seek(0)
        head = upload.read(max_bytes + 1)
    except Exception as exc:
        raise ValidationError(_("照片读取失败，请重新选择。")) from exc
    if len(head) > max_bytes:
        raise ValidationError(_("照片太大，每张不能超过 %(max)d MB。") % {"max": max_bytes // 1024 // 1024})
    if not head:
        raise ValidationError(_("照片是空文件，请重新选择。"))
    image_format, width, height = _probe(head)
    return CheckedPhoto(
        head,
        name=f"{secrets.token_hex(8)}.{image_format.lower()}",
        image_format=image_format,
        width=width,
        height=height,
    )


def reencode(data: bytes) -> bytes:
    """The photo decoded in full, upright, at most ``MAX_SIDE``, as a fresh JPEG without any metadata.

    Raises ValidationError when the image cannot be decoded (corrupt past its header, a
    decompression bomb, anything Pillow refuses): the caller decides what that means.
    """
    image_format, _width, _height = _probe(data)
    with pillow_refusals():
        image: Image.Image = Image.open(io.BytesIO(data), formats=[image_format])
        image.load()  # the full decode: a file corrupt past its header fails here
    try:
        image = ImageOps.exif_transpose(image) or image
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.thumbnail((MAX_SIDE, MAX_SIDE))
        out = io.BytesIO()
        # No exif= argument: the re-encoded file carries no EXIF and no GPS position.
        image.save(out, format="JPEG", quality=82, optimize=True)
    except (OSError, ValueError) as exc:
        raise ValidationError(_("照片无法处理，请换一张。")) from exc
    return out.getvalue()


def thumbnail(jpeg: bytes, side: int) -> bytes:
    """A small JPEG of a re-encoded photo, at most ``side`` on its longer side."""
    with Image.open(io.BytesIO(jpeg)) as image:
        image.thumbnail((side, side))
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=75, optimize=True)
    return out.getvalue()


def clean_photo(upload: IO[bytes], *, size: int | None = None) -> ContentFile[bytes]:
    """Validate an uploaded photo by its content and return a re-encoded JPEG without metadata, now.

    For the staff's low-volume uploads (receipts, service photos, documents); case photos
    are checked with ``check_photo`` and re-encoded by the ``issues.process_photo`` task.
    A photo this function returned comes back as it is.
    """
    if isinstance(upload, CleanPhoto):
        return upload
    data = reencode(check_photo(upload, size=size).read())
    return CleanPhoto(data, name=f"{secrets.token_hex(8)}.jpg")


def _probe(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) from the header, and Pillow's structural check; no decoding."""
    limit = settings.JXT_MAX_PHOTO_PIXELS
    with pillow_refusals():
        probe = Image.open(io.BytesIO(data))
        fmt = probe.format
        width, height = probe.size
        if fmt not in ALLOWED_FORMATS:
            raise ValidationError(_("不支持这种图片格式，请上传 JPG 或 PNG 照片。"))
        if width * height > limit or width <= 0 or height <= 0:
            raise ValidationError(_("照片像素过大，请换一张普通手机照片。"))
        probe.verify()  # structural check; the object is unusable afterwards
    return str(fmt), width, height


@contextmanager
def pillow_refusals() -> Iterator[None]:
    """Pillow's refusals, inside the block, as messages a resident can act on (a ValidationError).

    Pillow warns above ``MAX_IMAGE_PIXELS`` and raises at twice that: both are a refusal here
    (``_probe`` checks the pixel count itself first, against ``JXT_MAX_PHOTO_PIXELS``).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except ValidationError:
            raise
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise ValidationError(_("照片像素过大，请换一张普通手机照片。")) from exc
        except UnidentifiedImageError as exc:
            raise ValidationError(_("这不是有效的图片文件，请上传手机拍摄的照片。")) from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise ValidationError(_("图片文件已损坏或格式不正确，请换一张。")) from exc
