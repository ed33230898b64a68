"""Forms of the staff pages for department orders, extensions, dispatch and common issues; the admin's year form.

As in ``issues.forms``, fields the services check (a reason, a plan, a note) are
optional here so that the service's own message is the one the user reads.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.models import Area, Department
from alleys.people import Actor
from issues.choices import ConsultationOpinion
from issues.form_fields import (
    DepartmentChoiceField,
    DepartmentMultipleChoiceField,
    MultipleFileField,
    departments_dispatchable_from,
    dispatchable_departments,
)
from issues.models import Attendance, Consultation, DispatchOrder


class EmptyForm(forms.Form):
    """An action with nothing to type (签收)."""


MINUTE_FORMAT = "%Y-%m-%dT%H:%M"


def _moment_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=MINUTE_FORMAT)


class ReportForm(forms.Form):
    """报到: the responsible leader, the contact person, the work plan, and who will come to the community when."""

    leader_name = forms.CharField(label=_("分管负责人"), required=False, max_length=50)
    contact_name = forms.CharField(label=_("联系人"), required=False, max_length=50)
    contact_phone = forms.CharField(
        label=_("联系电话"), required=False, max_length=32, widget=forms.TextInput(attrs={"type": "tel"})
    )
    work_plan = forms.CharField(label=_("工作方案"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    visit_at = forms.DateTimeField(
        label=_("约定到社区报到的时间"),
        required=False,
        widget=_moment_input(),
        help_text=_("报到以社区确认部门到场为准：请在报到期限前到发起吹哨的社区。"),
    )
    visitors = forms.CharField(
        label=_("到社区报到的人员"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("每行一人，或用逗号、顿号分隔；须有分管负责人或联系人。"),
    )

    def __init__(self, *args: Any, order: DispatchOrder | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if order is not None and not self.is_bound:
            # The department's own leader and contact are the usual answer, and the usual visitors.
            dept = order.department
            leader = order.leader_name or dept.leader_name
            contact = order.contact_name or dept.contact_name
            self.initial.setdefault("leader_name", leader)
            self.initial.setdefault("contact_name", contact)
            self.initial.setdefault("contact_phone", order.contact_phone or dept.contact_phone)
            self.initial.setdefault("visitors", "\n".join(n for n in dict.fromkeys((leader, contact)) if n))


class AttendanceConfirmForm(forms.Form):
    """The community confirms the department came: when, who was there, and a note."""

    attended_at = forms.DateTimeField(label=_("实际到场时间"), required=False, widget=_moment_input())
    present = forms.CharField(
        label=_("实际到场人员"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("每行一人，或用逗号、顿号分隔。"),
    )
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, visit: Attendance | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if visit is not None and not self.is_bound:
            self.initial.setdefault("attended_at", timezone.localtime(visit.planned_at))
            self.initial.setdefault("present", "\n".join(visit.visitors))


class AttendanceMissedForm(forms.Form):
    """The community records that nobody came at the announced time."""

    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(
        label=_("我确认部门未按约到场：派单退回“已签收”，须重新报到，并记入考核。"),
        error_messages={"required": _("请勾选确认后再登记未到场。")},
    )


class ProgressForm(forms.Form):
    """A progress note."""

    note = forms.CharField(label=_("办理进展"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CompleteForm(forms.Form):
    """办结: what the department did, with photos of the result."""

    note = forms.CharField(label=_("办结说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    photos = MultipleFileField(label=_("整改照片"))


class OrderRejectForm(forms.Form):
    """退单: why the matter is not this department's."""

    reason = forms.CharField(
        label=_("退单理由"), required=False, widget=forms.Textarea(attrs={"rows": 3, "required": True})
    )
    confirm = forms.BooleanField(
        label=_("我确认退单：本部门不再办理，由派单的组织部门改派或坚持派单。"),
        error_messages={"required": _("请勾选确认后再退单。")},
    )


class ExtensionForm(forms.Form):
    """A request for more time: the reason and the new completion date."""

    reason = forms.CharField(label=_("延期理由"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    new_due = forms.DateField(
        label=_("申请延至"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def due_datetime(self, order: DispatchOrder) -> dt.datetime:
        """The new deadline at the same time of day as the current one (deadlines end at close of work)."""
        day: dt.date = self.cleaned_data["new_due"]
        current = timezone.localtime(order.complete_due)
        return current.replace(year=day.year, month=day.month, day=day.day)


class DecisionForm(forms.Form):
    """Agree/refuse (community) or approve/refuse (organisation department) an extension."""

    agree = forms.TypedChoiceField(
        label=_("意见"),
        choices=[("1", _("同意")), ("0", _("不同意"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        initial="1",
    )
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RedispatchForm(forms.Form):
    """改派: accept the rejection and send the order to another department."""

    department = DepartmentChoiceField(label=_("改派至"), queryset=Department.objects.none())
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, order: DispatchOrder, user: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = dispatchable_departments(  # type: ignore[attr-defined]
            user, order.dispatcher_area
        ).exclude(pk=order.department_id)


class InsistForm(forms.Form):
    """维持派单: the rejection is refused; the same department must handle it."""

    note = forms.CharField(label=_("维持理由"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DispatchForm(forms.Form):
    """派单: one lead department, any cooperating departments, and the instructions."""

    lead = DepartmentChoiceField(label=_("牵头部门"), queryset=Department.objects.none())
    cooperating = DepartmentMultipleChoiceField(
        label=_("配合部门"),
        required=False,
        queryset=Department.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("按住 Ctrl（Mac 上按 ⌘）可选择多个部门。"),
    )
    instructions = forms.CharField(
        label=_("派单要求"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self,
        *args: Any,
        user: Actor,
        area: Area,
        departments: QuerySet[Department] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        departments = dispatchable_departments(user, area) if departments is None else departments
        self.fields["lead"].queryset = departments  # type: ignore[attr-defined]
        self.fields["cooperating"].queryset = departments  # type: ignore[attr-defined]


class ConsultForm(forms.Form):
    """派单前征求意见: the departments the organisation department means to dispatch to, and what it asks."""

    departments = DepartmentMultipleChoiceField(
        label=_("征求意见的部门"),
        required=False,
        queryset=Department.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("按住 Ctrl（Mac 上按 ⌘）可选择多个部门。"),
    )
    question = forms.CharField(
        label=_("征求意见事项"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self,
        *args: Any,
        user: Actor,
        area: Area,
        departments: QuerySet[Department] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        departments = dispatchable_departments(user, area) if departments is None else departments
        self.fields["departments"].queryset = departments  # type: ignore[attr-defined]


class ConsultationAnswerForm(forms.Form):
    """A department's answer: agree, another department (which, and why), or another opinion."""

    opinion = forms.ChoiceField(
        label=_("意见"), choices=ConsultationOpinion.choices, widget=forms.RadioSelect, required=False
    )
    suggested_department = DepartmentChoiceField(
        label=_("建议承办的部门"), required=False, queryset=Department.objects.none()
    )
    text = forms.CharField(
        label=_("意见说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("建议改由其他部门或提出其他意见时，请说明理由。"),
    )

    def __init__(self, *args: Any, consultation: Consultation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["suggested_department"].queryset = departments_dispatchable_from(  # type: ignore[attr-defined]
            consultation.asker_area
        ).exclude(pk=consultation.department_id)


class CommonIssueForm(forms.Form):
    """A common issue (共性问题): a title and the cases it groups, by tracking code."""

    title = forms.CharField(label=_("标题"), max_length=200, required=False)
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    codes = forms.CharField(
        label=_("涉及案件查询码"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一个，或用空格、逗号分隔。"),
    )
    is_long_term = forms.BooleanField(label=_("作为长效机制"), required=False)

    def clean_codes(self) -> list[str]:
        raw = str(self.cleaned_data["codes"])
        codes = [c.strip().upper() for c in raw.replace(",", " ").replace("，", " ").split()]
        unique = list(dict.fromkeys(c for c in codes if c))
        if not unique:
            raise forms.ValidationError(_("请至少填写一个查询码。"))
        if len(unique) > 200:
            raise forms.ValidationError(_("一次最多归并 200 个案件。"))
        return unique


# --- the admin's one-page form for a year's holidays ----------------------------------------------
