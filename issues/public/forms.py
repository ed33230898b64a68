"""The residents' forms: report a problem, give feedback.

Every message is one an elderly resident can act on, in Chinese; every refusal keeps
what was typed (the view redisplays the bound form). Photos are checked here with
``issues.photos.check_photo`` (type by content, size, pixels, structure; no decoding) so all
problems are reported at once; the checked copies reach the state machine, which stores them
for the ``issues.process_photo`` task to re-encode.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import IO, Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image

from core.phones import is_mobile, normalize_phone
from core.text import has_markup
from dispatch.models import CategoryType
from issues.choices import FeedbackSolved, Satisfaction
from issues.photos import check_photo
from issues.public.selectors import ReportCategories

OTHER = "other"
HONEYPOT = "jxt_hp"
# The report form's one-time token (issue 14): each rendering carries a new one, and a double
# tap, a reload or a back-and-resubmit sends it again, so the view can answer with the case it
# already filed. ``secrets.token_urlsafe(24)``: 32 characters of the URL-safe alphabet.
SUBMISSION_FIELD = "submission"
_SUBMISSION_RE = re.compile(r"[A-Za-z0-9_-]{32}")


def reject_markup(value: str) -> str:
    """Refuse tags and script URLs in a resident's text (returns the text for use in clean_* methods)."""
    if has_markup(value):
        raise ValidationError(
            _("请只用文字描述，不要输入网页代码或“<”开头的标签（例如 <script>）。"), code="markup"
        )
    return value


def _markup_validator(value: str) -> None:
    reject_markup(value)


def new_submission_token() -> str:
    """A fresh one-time token for a rendering of the report form."""
    return secrets.token_urlsafe(24)


def submission_token(data: Mapping[str, Any]) -> str:
    """The posted one-time token when it is well formed, else "".

    A post without one (a page cached before tokens existed) or with a malformed one files as
    it always did, without the repeat check: refusing it would lose a resident's report.
    """
    raw = data.get(SUBMISSION_FIELD, "")
    return raw if isinstance(raw, str) and _SUBMISSION_RE.fullmatch(raw) else ""


def submission_key(token: str) -> str:
    """The ``Submission.key`` of a report form's token (Open311 keys have a prefix of their own)."""
    return f"form:{token}"


def _decimal_in(raw: Any, bound: int) -> Decimal | None:
    try:
        value = Decimal(str(raw)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return value if value.is_finite() and -bound <= value <= bound else None


def exif_location(upload: IO[bytes]) -> tuple[Decimal, Decimal] | None:
    """The GPS position a phone wrote into a photo, if any (read only when the resident shares location)."""
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            gps = image.getexif().get_ifd(0x8825)  # the GPS IFD
        if not gps or 2 not in gps or 4 not in gps:
            return None

        def degrees(parts: Sequence[Any], ref: Any) -> float:
            d, m, s = (float(p) for p in parts)
            value = d + m / 60 + s / 3600
            return -value if str(ref).upper() in ("S", "W") else value

        lat = _decimal_in(degrees(gps[2], gps.get(1, "N")), 90)
        lng = _decimal_in(degrees(gps[4], gps.get(3, "E")), 180)
    except Exception:  # any odd EXIF: the position is a convenience, never a reason to fail
        return None
    if lat is None or lng is None or (lat == 0 and lng == 0):
        return None
    return lat, lng


class MultipleFileInput(forms.ClearableFileInput):
    """A file input that lets the phone pick several photos at once."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files; each is checked by the form, all at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [f for f in files if f]


def _text(
    label: Any, *, required: bool = False, max_length: int | None = None, **kwargs: Any
) -> forms.CharField:
    field = forms.CharField(label=label, required=required, max_length=max_length, strip=True, **kwargs)
    field.validators.append(_markup_validator)
    return field


class KeyedChoiceField(forms.ChoiceField):
    """A ChoiceField checked by a set lookup, its choices built only if a widget renders them.

    The report form draws its category tiles itself; building and normalising a hundred
    (id, name) choices twice on every submission, to test one value, cost more than the
    rest of the validation.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.valid_values: frozenset[str] = frozenset()

    def set_choices(self, choices: Callable[[], list[tuple[str, str]]], valid: Iterable[str]) -> None:
        self.choices = choices  # a callable: normalised lazily, if ever
        self.valid_values = frozenset(valid)

    def valid_value(self, value: Any) -> bool:
        return str(value) in self.valid_values


class ReportForm(forms.Form):
    """A resident's report of a problem in one alley."""

    category = KeyedChoiceField(
        label=gettext_lazy("遇到了什么问题？"),
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("请选择问题类型。"),
            "invalid_choice": gettext_lazy("请选择问题类型。"),
        },
    )
    other_category = KeyedChoiceField(label=gettext_lazy("其他问题的类型"), required=False)
    description = forms.CharField(
        label=gettext_lazy("问题描述"),
        widget=forms.Textarea(attrs={"rows": 5}),
        strip=True,
        required=False,  # checked in clean_description, with the resident's own words kept
    )
    # Only where the alley has buildings (楼栋): optional; the building's own QR code pre-selects it.
    building = KeyedChoiceField(
        label=gettext_lazy("所在楼栋（可选）"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("所选楼栋不在这条街巷，请在列表里重新选择。")},
    )
    address_detail = _text(gettext_lazy("具体位置（可选）"), max_length=200)
    share_location = forms.BooleanField(label=gettext_lazy("告诉工作人员我现在的位置"), required=False)
    latitude = forms.CharField(required=False, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, widget=forms.HiddenInput)
    photos = MultipleFileField(label=gettext_lazy("照片（可选）"), required=False)
    reporter_name = _text(gettext_lazy("您的称呼（可选）"), max_length=50)
    reporter_phone = forms.CharField(label=gettext_lazy("手机号码"), required=False, max_length=30)
    consent = forms.BooleanField(required=False)
    # Only a mobile number receives an SMS; ticked without one, the form says so (clean).
    sms_opt_in = forms.BooleanField(label=gettext_lazy("办理进展短信通知我"), required=False)
    jxt_hp = forms.CharField(required=False)  # the honeypot: hidden by CSS, left empty by people

    def __init__(
        self,
        *args: Any,
        categories: ReportCategories,
        buildings: Sequence[Any] = (),
        skipped_photos: Sequence[str] = (),
        skipped_count: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.common = categories.common
        self.other = categories.other
        self._by_id = categories.by_id
        self.skipped_photos = list(skipped_photos)
        self.skipped_count = skipped_count
        cast(KeyedChoiceField, self.fields["category"]).set_choices(
            lambda: [(str(c.pk), c.name) for c in self.common] + [(OTHER, _("其他问题"))],
            [*categories.common_ids, OTHER],
        )
        cast(KeyedChoiceField, self.fields["other_category"]).set_choices(
            lambda: [("", _("请选择"))] + [(str(c.pk), c.name) for c in self.other],
            ["", *categories.other_ids],
        )
        self.buildings = list(buildings)
        self._buildings_by_code = {b.code: b for b in self.buildings}
        if self.buildings:
            cast(KeyedChoiceField, self.fields["building"]).set_choices(
                lambda: [("", _("不指定楼栋"))] + [(b.code, b.name) for b in self.buildings],
                ["", *self._buildings_by_code],
            )
        else:
            del self.fields["building"]  # an alley without buildings: the form as it always was
        self.cleaned_photos: list[ContentFile[bytes]] = []
        self.category_obj: CategoryType | None = None

    # --- fields -------------------------------------------------------------------------

    def clean_description(self) -> str:
        text: str = self.cleaned_data.get("description", "")
        if not text:
            raise ValidationError(_("请描述遇到的问题，例如：哪里、什么情况、持续多久了。"), code="required")
        limit = settings.JXT_MAX_DESCRIPTION
        if len(text) > limit:
            raise ValidationError(
                _("问题描述最多 %(max)d 个字，现在有 %(n)d 个字，请删减后再提交。")
                % {"max": limit, "n": len(text)},
                code="max_length",
            )
        return reject_markup(text)

    def clean_reporter_phone(self) -> str:
        raw: str = self.cleaned_data.get("reporter_phone", "").strip()
        return normalize_phone(raw) if raw else ""

    def clean_latitude(self) -> Decimal | None:
        return _decimal_in(self.cleaned_data.get("latitude") or None, 90)

    def clean_longitude(self) -> Decimal | None:
        return _decimal_in(self.cleaned_data.get("longitude") or None, 180)

    def clean_photos(self) -> list[Any]:
        uploads: list[Any] = self.cleaned_data.get("photos") or []
        errors: list[str] = []
        limit = settings.JXT_MAX_PHOTOS
        max_mb = settings.JXT_MAX_PHOTO_BYTES // 1024 // 1024
        if self.skipped_count or len(uploads) > limit:
            errors.append(_("最多上传 %(n)d 张照片，请少选几张。") % {"n": limit})
        for name in self.skipped_photos:
            errors.append(
                _("照片“%(name)s”太大，每张不能超过 %(max)d MB。")
                % {"name": name or _("未命名"), "max": max_mb}
            )
        cleaned: list[ContentFile[bytes]] = []
        for index, upload in enumerate(uploads[:limit], start=1):
            try:
                cleaned.append(check_photo(upload))
            except ValidationError as exc:
                errors.append(
                    _("第 %(n)d 张照片（%(name)s）：%(msg)s")
                    % {
                        "n": index,
                        "name": getattr(upload, "name", "") or _("未命名"),
                        "msg": " ".join(exc.messages),
                    }
                )
        if errors:
            raise ValidationError(errors, code="photo")
        self.cleaned_photos = cleaned
        return uploads

    # --- the whole form -------------------------------------------------------------------

    @property
    def building_obj(self) -> Any:
        """The building chosen (a valid form's), or None."""
        return self._buildings_by_code.get(self.cleaned_data.get("building") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choice = data.get("category")
        category: CategoryType | None = None
        if choice == OTHER:
            category = self._by_id.get(data.get("other_category") or "")
            if category is None:
                self.add_error("other_category", _("选了“其他问题”，请在下拉框里选择具体类型。"))
        elif choice:
            category = self._by_id.get(choice)
        self.category_obj = category
        phone = data.get("reporter_phone", "")
        if (
            category is not None
            and category.needs_contact
            and not phone
            and "reporter_phone" not in self.errors
        ):
            self.add_error(
                "reporter_phone",
                _("“%(category)s”需要留下手机号码，方便工作人员联系和回访。") % {"category": category.name},
            )
        if not data.get("share_location"):
            # The resident did not choose to share a position: keep none, whatever was posted.
            data["latitude"] = data["longitude"] = None
        elif data.get("latitude") is None or data.get("longitude") is None:
            data["latitude"] = data["longitude"] = None
            if self.cleaned_photos:
                for upload in data.get("photos") or []:
                    position = exif_location(upload)
                    if position:
                        data["latitude"], data["longitude"] = position
                        break
        if data.get("sms_opt_in") and "reporter_phone" not in self.errors and not is_mobile(phone):
            self.add_error(
                "sms_opt_in",
                _("短信只能发到手机：请在上面填写 11 位手机号码，或者取消勾选“办理进展短信通知我”。"),
            )
        gives_personal_data = bool(data.get("reporter_name") or phone or data.get("latitude") is not None)
        if gives_personal_data and not data.get("consent"):
            self.add_error("consent", _("留下称呼、电话或位置时，请勾选同意上面的个人信息使用说明。"))
        return data

    @property
    def repick_photos(self) -> bool:
        """Whether the resident had chosen photos that the browser will not send again."""
        return bool(
            self.is_bound and (self.files.getlist("photos") or self.skipped_photos or self.skipped_count)
        )


class FeedbackForm(forms.Form):
    """The reporter's two answers about the result, with a comment."""

    phone_last4 = forms.CharField(
        label=gettext_lazy("您留下的手机号码的后 4 位"),
        required=False,
        max_length=8,
    )
    solved = forms.ChoiceField(
        label=gettext_lazy("问题解决了吗？"),
        choices=FeedbackSolved.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("请选择问题是否解决。"),
            "invalid_choice": gettext_lazy("请选择问题是否解决。"),
        },
    )
    satisfaction = forms.ChoiceField(
        label=gettext_lazy("您对办理结果满意吗？"),
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("请选择满意程度。"),
            "invalid_choice": gettext_lazy("请选择满意程度。"),
        },
    )
    comment = forms.CharField(
        label=gettext_lazy("您的意见（可选）"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, needs_phone: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.needs_phone = needs_phone

    def clean_phone_last4(self) -> str:
        digits = re.sub(r"\s", "", unicodedata.normalize("NFKC", self.cleaned_data.get("phone_last4", "")))
        if self.needs_phone and not re.fullmatch(r"[0-9]{4}", digits):
            raise ValidationError(_("请填写您反映问题时留下的手机号码的最后 4 位数字。"), code="required")
        return digits

    def clean_comment(self) -> str:
        text: str = self.cleaned_data.get("comment", "")
        limit = settings.JXT_MAX_DESCRIPTION
        if len(text) > limit:
            raise ValidationError(
                _("意见最多 %(max)d 个字，现在有 %(n)d 个字，请删减后再提交。")
                % {"max": limit, "n": len(text)},
                code="max_length",
            )
        return reject_markup(text)
