"""Forms of the phone verification pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.phones import normalize_mobile


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("手机号码"), max_length=30, error_messages={"required": _("请填写手机号码。")}
    )

    def clean_phone(self) -> str:
        return normalize_mobile(self.cleaned_data["phone"])


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("短信验证码"),
        max_length=12,
        error_messages={"required": _("请输入短信里的 6 位数字验证码。")},
    )
