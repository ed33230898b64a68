"""Photo intake (case photos, receipts): check by content, limit size and pixels, strip EXIF, re-encode as JPEG.

Pillow opens every upload; anything it cannot decode is refused, and what it can is
re-encoded, which drops EXIF (including GPS) and any payload hidden after the image.
"""

from __future__ import annotations

import io
import secrets
import warnings
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO"}
MAX_SIDE = 2560  # re-encoded photos are downscaled to this; enough for a street light


class CleanPhoto(ContentFile):
    """A photo ``clean_photo`` has already checked and re-encoded (only it makes these)."""


def clean_photo(upload: IO[bytes], *, size: int | None = None) -> ContentFile[bytes]:
    """Validate an uploaded photo by its content and return a re-encoded JPEG without metadata.

    Raises ValidationError with a message a resident can act on. A photo this function
    returned comes back as it is: the form checks the resident's photos, the intake service
    checks them again before writing anything, and attaching them reads them a third time;
    decoding and re-encoding a phone photo is the costly part of a submission.
    """
    if isinstance(upload, CleanPhoto):
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
    image = _open_checked(head)
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
    return CleanPhoto(out.getvalue(), name=f"{secrets.token_hex(8)}.jpg")


def _open_checked(data: bytes) -> Image.Image:
    limit = settings.JXT_MAX_PHOTO_PIXELS
    with warnings.catch_warnings():
        # Pillow warns above MAX_IMAGE_PIXELS and raises at twice that; we check ourselves first.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            probe = Image.open(io.BytesIO(data))
            fmt = probe.format
            width, height = probe.size
            if fmt not in ALLOWED_FORMATS:
                raise ValidationError(_("不支持这种图片格式，请上传 JPG 或 PNG 照片。"))
            if width * height > limit or width <= 0 or height <= 0:
                raise ValidationError(_("照片像素过大，请换一张普通手机照片。"))
            probe.verify()  # structural check; the object is unusable afterwards
            image = Image.open(io.BytesIO(data))
            image.load()
        except ValidationError:
            raise
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise ValidationError(_("照片像素过大，请换一张普通手机照片。")) from exc
        except UnidentifiedImageError as exc:
            raise ValidationError(_("这不是有效的图片文件，请上传手机拍摄的照片。")) from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise ValidationError(_("图片文件已损坏或格式不正确，请换一张。")) from exc
    return image
