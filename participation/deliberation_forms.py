"""Forms of the notice and deliberation pages; the rules stay in ``notices.py`` and ``deliberation.py``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from alleys.models import Area
from alleys.people import Actor

from .deliberation import MAX_OPTIONS, topic_areas
from .notices import notice_areas

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class NoticeForm(forms.Form):
    """A notice: where, title, plain-text body, optional expiry, whether subscribers get an SMS."""

    area = forms.ModelChoiceField(label=_("发布范围"), queryset=Area.objects.none(), empty_label=None)
    title = forms.CharField(label=_("标题"), max_length=100)
    body = forms.CharField(
        label=_("正文"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("只用文字，不支持网页代码。"),
    )
    expires_at = forms.DateTimeField(label=_("有效期至"), required=False, widget=DATETIME)
    send_sms = forms.BooleanField(label=_("发布时短信通知订阅的居民"), required=False, initial=True)

    def __init__(self, *args: Any, user: Actor, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["area"]
            del self.fields["send_sms"]
        else:
            self.fields["area"].queryset = Area.objects.filter(  # type: ignore[attr-defined]
                pk__in=[a.pk for a in notice_areas(user)]
            ).order_by("code")


class TopicForm(forms.Form):
    """A topic: where, the question, its explanation, 2–6 options (one a line), the deadline."""

    area = forms.ModelChoiceField(label=_("议事范围"), queryset=Area.objects.none(), empty_label=None)
    title = forms.CharField(label=_("议题"), max_length=100)
    body = forms.CharField(label=_("说明"), max_length=4000, widget=forms.Textarea(attrs={"rows": 6}))
    options = forms.CharField(
        label=_("选项"),
        widget=forms.Textarea(attrs={"rows": MAX_OPTIONS}),
        help_text=_("每行一个选项，2 至 6 个。"),
    )
    closes_at = forms.DateTimeField(label=_("截止时间"), widget=DATETIME)

    def __init__(self, *args: Any, user: Actor, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["area"]
        else:
            self.fields["area"].queryset = Area.objects.filter(  # type: ignore[attr-defined]
                pk__in=[a.pk for a in topic_areas(user)]
            ).order_by("code")

    def option_lines(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["options"].splitlines() if line.strip()]


class OutcomeForm(forms.Form):
    outcome = forms.CharField(label=_("议事结果"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5}))


class CommentForm(forms.Form):
    body = forms.CharField(label=_("留言"), max_length=500, widget=forms.Textarea(attrs={"rows": 4}))
