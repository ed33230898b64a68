"""The staff form of a commitment; the rules stay in ``participation/supervision.py``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CommitmentSource
from .supervision import TEXT_MAX


class CommitmentForm(forms.Form):
    text = forms.CharField(
        label=_("承诺内容"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写承诺内容。")},
    )
    source = forms.ChoiceField(label=_("来源"), choices=CommitmentSource.choices)
    position = forms.IntegerField(
        label=_("排序"),
        min_value=0,
        max_value=9999,
        required=False,
        help_text=_("数字小的排在前面；不填排在最后。"),
    )
