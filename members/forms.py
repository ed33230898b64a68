"""The staff pages' forms for 双报到; the rules stay in ``members/rules.py`` and the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.choices import AreaLevel, Role, ServiceKind
from alleys.models import Area
from alleys.people import Actor
from alleys.scoping import scope_for
from core.photos import clean_photo

from .choices import ClaimState, NeedKind, NeedState, RegistrationState
from .models import HOURS_MAX, HOURS_MIN, PLACES_MAX, PartyOrganization, Registration

CONSENT_TEXT = _(
    "我同意社区为组织党员服务使用我的姓名、手机、单位和住址：手机只有居住社区的工作人员和我本人可见，"
    "单位党组织和上级只看到打码的号码。"
)


class RegistrationForm(forms.Form):
    """A member's registration: who, which work unit, where they live, what they can do, and consent."""

    full_name = forms.CharField(label=_("姓名"), max_length=50)
    phone = forms.CharField(
        label=_("手机"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    organization = forms.ModelChoiceField(label=_("单位党组织"), queryset=PartyOrganization.objects.none())
    community = forms.ModelChoiceField(label=_("居住社区"), queryset=Area.objects.none())
    alley = forms.ModelChoiceField(label=_("居住街巷"), queryset=Area.objects.none(), required=False)
    skills = forms.CharField(
        label=_("特长"),
        max_length=200,
        required=False,
        help_text=_("例如：电工、医护、法律、书法、心理疏导。"),
    )
    consent = forms.BooleanField(
        label=CONSENT_TEXT, error_messages={"required": _("请阅读并同意个人信息的使用说明。")}
    )

    def __init__(self, *args: Any, communities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = PartyOrganization.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["community"].queryset = communities  # type: ignore[attr-defined]
        codes = [c.code for c in communities]
        alleys = Area.objects.filter(level=AreaLevel.ALLEY).order_by("code")
        self.fields["alley"].queryset = (  # type: ignore[attr-defined]
            alleys.filter(parent__code__in=codes) if len(codes) < 50 else alleys
        )


class PublicRegistrationForm(forms.Form):
    """A member registering on the public page: the alley comes from the page, the phone from the SMS code."""

    full_name = forms.CharField(label=_("姓名"), max_length=50)
    organization = forms.ModelChoiceField(
        label=_("单位党组织"),
        queryset=PartyOrganization.objects.none(),
        empty_label=_("请选择"),
        error_messages={"required": _("请选择所在单位的党组织。")},
    )
    skills = forms.CharField(
        label=_("特长"),
        max_length=200,
        required=False,
        help_text=_("例如：电工、医护、法律、书法、心理疏导。"),
    )
    consent = forms.BooleanField(
        label=CONSENT_TEXT, error_messages={"required": _("请阅读并同意个人信息的使用说明。")}
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        active = PartyOrganization.objects.filter(is_active=True).order_by("name")
        self.fields["organization"].queryset = active  # type: ignore[attr-defined]
        self.fields["full_name"].error_messages["required"] = _("请填写姓名。")


class RegistrationFilterForm(forms.Form):
    """The members list's filters."""

    state = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部")), *RegistrationState.choices], required=False
    )
    organization = forms.ModelChoiceField(
        label=_("单位党组织"), queryset=PartyOrganization.objects.all(), required=False, empty_label=_("全部")
    )
    q = forms.CharField(label=_("姓名"), max_length=50, required=False)


class NeedForm(forms.Form):
    """A need the community posts."""

    community = forms.ModelChoiceField(label=_("社区"), queryset=Area.objects.none(), empty_label=None)
    kind = forms.ChoiceField(label=_("类型"), choices=NeedKind.choices)
    title = forms.CharField(label=_("标题"), max_length=100)
    description = forms.CharField(
        label=_("说明"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    alley = forms.ModelChoiceField(label=_("街巷"), queryset=Area.objects.none(), required=False)
    places = forms.IntegerField(label=_("需要人数"), min_value=1, max_value=PLACES_MAX, initial=1)
    due_on = forms.DateField(
        label=_("希望完成日期"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, communities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities  # type: ignore[attr-defined]
        self.fields["alley"].queryset = Area.objects.filter(  # type: ignore[attr-defined]
            level=AreaLevel.ALLEY, parent__in=communities
        ).order_by("code")


class NeedFilterForm(forms.Form):
    """The needs list's filters."""

    state = forms.ChoiceField(label=_("状态"), choices=[("", _("全部")), *NeedState.choices], required=False)
    kind = forms.ChoiceField(label=_("类型"), choices=[("", _("全部")), *NeedKind.choices], required=False)


class ClaimFilterForm(forms.Form):
    """The claims list's filter."""

    state = forms.ChoiceField(label=_("状态"), choices=[("", _("全部")), *ClaimState.choices], required=False)


class ClaimForForm(forms.Form):
    """The community claims a need for one of its confirmed members (代为认领)."""

    registration = forms.ModelChoiceField(label=_("党员"), queryset=Registration.objects.none())

    def __init__(self, *args: Any, community: Area, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["registration"].queryset = Registration.objects.filter(  # type: ignore[attr-defined]
            community=community, state=RegistrationState.CONFIRMED
        ).order_by("full_name")


class RecordForm(forms.Form):
    """The service done: hours, a note, the date, a photo."""

    hours = forms.DecimalField(
        label=_("服务时长（小时）"), min_value=HOURS_MIN, max_value=HOURS_MAX, max_digits=3, decimal_places=1
    )
    note = forms.CharField(label=_("服务内容"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    served_on = forms.DateField(
        label=_("服务日期"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    photo = forms.FileField(
        label=_("服务照片"),
        required=False,
        help_text=_("JPG 或 PNG，可不上传；不要拍到居民的面部和证件。"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )

    def clean_photo(self) -> Any:
        upload: UploadedFile | None = self.cleaned_data.get("photo")
        return clean_photo(upload) if upload else None

    def clean_served_on(self) -> dt.date:
        value: dt.date = self.cleaned_data["served_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("服务日期不能晚于今天。"))
        return value


class ReasonForm(forms.Form):
    """A reason and a ticked confirmation (declining, cancelling)."""

    reason = forms.CharField(label=_("理由"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(label=_("确认"))


class ConfirmForm(forms.Form):
    """A ticked confirmation (withdrawing)."""

    confirm = forms.BooleanField(label=_("确认"))


class TeamForm(forms.Form):
    """Asking to join an alley's service team."""

    alley = forms.ModelChoiceField(label=_("街巷"), queryset=Area.objects.none(), empty_label=None)
    service_kind = forms.ChoiceField(
        label=_("服务专长"), choices=ServiceKind.choices, initial=ServiceKind.OTHER
    )

    def __init__(self, *args: Any, community: Area, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["alley"].queryset = Area.objects.filter(  # type: ignore[attr-defined]
            level=AreaLevel.ALLEY, parent=community
        ).order_by("code")


def communities_for(user: Actor, *, own_only: bool) -> Any:
    """The communities ``user`` posts for (own_only) or may name as a home (every active community)."""
    qs = Area.objects.filter(level=AreaLevel.COMMUNITY, is_active=True).order_by("code")
    if not own_only:
        return qs
    scope = scope_for(user)
    if scope.is_global:
        return qs
    codes = [code for role, code, _d in scope.assignments if role == Role.COMMUNITY_STAFF and code]
    return qs.filter(code__in=codes)
