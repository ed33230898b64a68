"""Forms of the staff pages for joint meetings and standing mechanisms.

As elsewhere, fields the services check (assignments, departments, a mechanism's owner) are
optional here so that the service's own message is the one the user reads.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.choices import HOLDER_ROLES, AreaLevel
from alleys.models import Area, Department
from alleys.people import Actor
from alleys.scoping import scope_for
from dispatch.models import CategoryClass, CategoryType

from .choices import Decision
from .form_fields import DepartmentChoiceField, DepartmentMultipleChoiceField
from .models import MEETING_LEVELS, CommonIssue, JointMeeting
from .workflow.mechanisms import MechanismDraft


def convening_areas(user: Actor) -> QuerySet[Area]:
    """The units whose joint meetings the user may convene (their community, street, district, city)."""
    scope = scope_for(user)
    if scope.is_global:
        return Area.objects.filter(level__in=MEETING_LEVELS).order_by("code")
    codes = [
        code
        for role, code, _dept in scope.assignments
        if code and any(role in HOLDER_ROLES[level] for level in MEETING_LEVELS)
    ]
    return Area.objects.filter(code__in=codes, level__in=MEETING_LEVELS).order_by("code")


def _departments(user: Actor) -> QuerySet[Department]:
    return (
        Department.objects.visible_to(user)
        .filter(is_active=True)
        .select_related("area")
        .order_by("area__code", "name")
    )


class AreaChoiceField(forms.ModelChoiceField):
    """A unit, labelled with its level."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{AreaLevel(obj.level).label}）"


class AreaMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Units, labelled with their level."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{AreaLevel(obj.level).label}）"


class MeetingPlanForm(forms.Form):
    """A new meeting: the unit and the date; its agenda is proposed from the unit's hard items."""

    area = AreaChoiceField(label=_("召开单位"), queryset=Area.objects.none(), empty_label=None)
    date = forms.DateField(
        label=_("会议日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    title = forms.CharField(
        label=_("会议名称"),
        required=False,
        max_length=200,
        help_text=_("留空则为“某年第几季度某某联席会议”。"),
    )

    def __init__(self, *args: Any, user: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = convening_areas(user)  # type: ignore[attr-defined]
        self.initial.setdefault("date", timezone.localdate())


class AgendaAddForm(forms.Form):
    """One more item: a case by its tracking code, or a common issue."""

    code = forms.CharField(label=_("案件查询码"), required=False, max_length=12)
    common_issue = forms.ModelChoiceField(
        label=_("或共性问题"), required=False, queryset=CommonIssue.objects.none(), empty_label="—"
    )

    def __init__(self, *args: Any, user: Actor, meeting: JointMeeting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["common_issue"].queryset = CommonIssue.objects.visible_to(user).order_by("-created_at")  # type: ignore[attr-defined]

    def clean_code(self) -> str:
        return str(self.cleaned_data.get("code") or "").strip().upper()


class HoldForm(forms.Form):
    """The meeting took place: who came, and the minutes."""

    present_departments = DepartmentMultipleChoiceField(
        label=_("出席部门"),
        required=False,
        queryset=Department.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("按住 Ctrl（Mac 上按 ⌘）可选择多个。"),
    )
    present_areas = AreaMultipleChoiceField(
        label=_("出席单位"),
        required=False,
        queryset=Area.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    attendees = forms.CharField(
        label=_("其他出席人员"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    minutes = forms.CharField(label=_("会议纪要"), required=False, widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args: Any, user: Actor, meeting: JointMeeting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area = meeting.area
        self.fields["present_departments"].queryset = _departments(user)  # type: ignore[attr-defined]
        # The units below the meeting's (a street's communities) and the one above it.
        nearby = Q(parent=area) | Q(pk=area.parent_id) if area.parent_id else Q(parent=area)
        self.fields["present_areas"].queryset = Area.objects.filter(nearby).order_by("code")  # type: ignore[attr-defined]


class RecordForm(forms.Form):
    """A held meeting's minutes and free-text attendees, corrected."""

    attendees = forms.CharField(
        label=_("其他出席人员"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    minutes = forms.CharField(label=_("会议纪要"), required=False, widget=forms.Textarea(attrs={"rows": 6}))


class AttachForm(forms.Form):
    """A file of the meeting."""

    file = forms.FileField(
        label=_("附件"),
        help_text=_("PDF、Word（.docx）、Excel（.xlsx）或照片。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.docx,.xlsx,image/*"}),
    )


class DecideForm(forms.Form):
    """The one decision on an agenda item; the mechanism's fields are for 'make a standing mechanism'."""

    decision = forms.ChoiceField(label=_("决定"), choices=Decision.choices, widget=forms.RadioSelect)
    assignments = forms.CharField(
        label=_("分工（就地解决）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("由谁负责做什么、何时完成。"),
    )
    departments = DepartmentMultipleChoiceField(
        label=_("点名部门"),
        required=False,
        queryset=Department.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text=_("吹哨上报时点名责任部门（街道、区联席会议必填）；就地解决时可点名配合部门。"),
    )
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    mechanism_title = forms.CharField(label=_("长效机制名称"), required=False, max_length=200)
    category_class = forms.ModelChoiceField(
        label=_("针对的事项分类"), required=False, queryset=CategoryClass.objects.all(), empty_label="—"
    )
    category_type = forms.ModelChoiceField(
        label=_("或事项类型"),
        required=False,
        queryset=CategoryType.objects.filter(is_active=True).order_by("code"),
        empty_label="—",
    )
    owner_department = DepartmentChoiceField(
        label=_("牵头责任部门"), required=False, queryset=Department.objects.none(), empty_label="—"
    )
    cooperating = DepartmentMultipleChoiceField(
        label=_("配合部门"),
        required=False,
        queryset=Department.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    review_on = forms.DateField(
        label=_("首次复核日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    document_title = forms.CharField(label=_("文件名称"), required=False, max_length=200)
    document_number = forms.CharField(label=_("文号"), required=False, max_length=100)

    MECHANISM_FIELDS = (
        "mechanism_title",
        "category_class",
        "category_type",
        "owner_department",
        "cooperating",
        "review_on",
        "document_title",
        "document_number",
    )

    def __init__(self, *args: Any, user: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        departments = _departments(user)
        for name in ("departments", "owner_department", "cooperating"):
            self.fields[name].queryset = departments  # type: ignore[attr-defined]
        self.initial.setdefault("review_on", timezone.localdate() + dt.timedelta(days=365))

    def decision_fields(self) -> list[Any]:
        return [self[name] for name in ("decision", "assignments", "departments", "note")]

    def mechanism_fields(self) -> list[Any]:
        return [self[name] for name in self.MECHANISM_FIELDS]

    def mechanism(self) -> MechanismDraft | None:
        data = self.cleaned_data
        if data.get("decision") != Decision.MECHANISM:
            return None
        return MechanismDraft(
            title=data.get("mechanism_title") or "",
            owner_department=data.get("owner_department"),
            review_on=data.get("review_on"),
            category_type=data.get("category_type"),
            category_class=data.get("category_class"),
            cooperating=tuple(data.get("cooperating") or ()),
            description=data.get("note") or "",
            document_title=data.get("document_title") or "",
            document_number=data.get("document_number") or "",
        )


class MechanismDocumentForm(forms.Form):
    """The document that fixes a standing mechanism: title, number, file."""

    document_title = forms.CharField(label=_("文件名称"), required=False, max_length=200)
    document_number = forms.CharField(label=_("文号"), required=False, max_length=100)
    file = forms.FileField(
        label=_("文件"),
        required=False,
        help_text=_("PDF、Word（.docx）或 Excel（.xlsx）。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.docx,.xlsx"}),
    )


class MechanismReviewForm(forms.Form):
    """A review of a standing mechanism, and the next review date."""

    note = forms.CharField(label=_("复核情况"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    next_review_on = forms.DateField(
        label=_("下次复核日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
