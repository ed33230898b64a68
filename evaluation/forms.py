"""Forms of the evaluation pages (the services validate again; forms only shape the input)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from issues.choices import FeedbackSolved, Satisfaction

from .choices import Rating, RespondentKind, Timeliness


class EvaluationForm(forms.Form):
    """一哨一考核: the community's evaluation of one department order."""

    report_timeliness = forms.ChoiceField(label=_("报到及时性"), choices=Timeliness.choices)
    timeliness_override_reason = forms.CharField(
        label=_("更正理由"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("与系统记录不同时必须填写。"),
    )
    plan_quality = forms.TypedChoiceField(
        label=_("工作方案质量"), choices=Rating.choices, coerce=int, widget=forms.RadioSelect
    )
    work_quality = forms.TypedChoiceField(
        label=_("办理质量"), choices=Rating.choices, coerce=int, widget=forms.RadioSelect
    )
    cooperation = forms.TypedChoiceField(
        label=_("配合程度"), choices=Rating.choices, coerce=int, widget=forms.RadioSelect
    )
    overall_score = forms.IntegerField(label=_("综合评分（0–100）"), min_value=0, max_value=100)
    opinion = forms.CharField(
        label=_("初步评价意见"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000
    )


class SurveyOpenForm(forms.Form):
    """Open a satisfaction survey with a number of one-time invite codes."""

    title = forms.CharField(label=_("标题"), required=False, max_length=200)
    invites = forms.IntegerField(
        label=_("邀请码数量"),
        min_value=1,
        max_value=500,
        initial=30,
        help_text=_("每位受邀党员或居民一个邀请码，每个邀请码只能作答一次。"),
    )
    closes_on = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class InvitesForm(forms.Form):
    """More invite codes."""

    count = forms.IntegerField(label=_("追加邀请码数量"), min_value=1, max_value=500, initial=10)


class SurveyAnswerForm(forms.Form):
    """The public answer form: no name, no phone — only the invite code."""

    code = forms.CharField(
        label=_("邀请码"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "inputmode": "text"}
        ),
    )
    respondent_kind = forms.ChoiceField(
        label=_("您的身份"), choices=RespondentKind.choices, widget=forms.RadioSelect
    )
    solved = forms.ChoiceField(
        label=_("问题是否已经解决？"), choices=FeedbackSolved.choices, widget=forms.RadioSelect
    )
    satisfaction = forms.ChoiceField(
        label=_("您对办理结果满意吗？"), choices=Satisfaction.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("意见建议（选填）"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("请不要填写姓名、电话等个人信息。"),
    )


class AdjustForm(forms.Form):
    """Adjust one department's annual score, with a reason."""

    score = forms.DecimalField(label=_("调整后得分"), min_value=0, max_value=100, decimal_places=2)
    reason = forms.CharField(label=_("调整理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ReasonForm(forms.Form):
    """A note or reason for a workflow step."""

    reason = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
