"""Forms of the staff pages for department orders, extensions, dispatch and common issues; the admin's year form.

As in ``issues.forms``, fields the services check (a reason, a plan, a note) are
optional here so that the service's own message is the one the user reads.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.models import Area, Department
from alleys.people import Actor
from issues.forms import DepartmentMultipleChoiceField, MultipleFileField
from issues.workflow import may_receive_orders_from

from .models import DispatchOrder


class DepartmentChoiceField(forms.ModelChoiceField):
    """One department, labelled with its district or city."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.area.name}）"


def dispatchable_departments(user: Actor, area: Area) -> QuerySet[Department]:
    """Active departments the user sees that may take orders from the organisation department of ``area``.

    The rule itself is ``issues.workflow.may_receive_orders_from`` (its own district's departments,
    and the city-wide enterprises and public-service companies); this only applies it to the choices.
    """
    candidates = Department.objects.visible_to(user).filter(is_active=True).select_related("area")
    ids = [d.pk for d in candidates if may_receive_orders_from(d, area)]
    return Department.objects.filter(pk__in=ids).select_related("area").order_by("area__code", "name")


class EmptyForm(forms.Form):
    """An action with nothing to type (签收)."""


class ReportForm(forms.Form):
    """报到: the responsible leader, the contact person and the work plan."""

    leader_name = forms.CharField(label=_("分管负责人"), required=False, max_length=50)
    contact_name = forms.CharField(label=_("联系人"), required=False, max_length=50)
    contact_phone = forms.CharField(
        label=_("联系电话"), required=False, max_length=32, widget=forms.TextInput(attrs={"type": "tel"})
    )
    work_plan = forms.CharField(label=_("工作方案"), required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, order: DispatchOrder | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if order is not None and not self.is_bound:
            # The department's own leader and contact are the usual answer.
            dept = order.department
            self.initial.setdefault("leader_name", order.leader_name or dept.leader_name)
            self.initial.setdefault("contact_name", order.contact_name or dept.contact_name)
            self.initial.setdefault("contact_phone", order.contact_phone or dept.contact_phone)


class ProgressForm(forms.Form):
    """A progress note."""

    note = forms.CharField(label=_("办理进展"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CompleteForm(forms.Form):
    """办结: what the department did, with photos of the result."""

    note = forms.CharField(label=_("办结说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    photos = MultipleFileField(label=_("整改照片"))


class OrderRejectForm(forms.Form):
    """退单: why the matter is not this department's."""

    reason = forms.CharField(label=_("退单理由"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


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

    def __init__(self, *args: Any, user: Actor, area: Area, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        departments = dispatchable_departments(user, area)
        self.fields["lead"].queryset = departments  # type: ignore[attr-defined]
        self.fields["cooperating"].queryset = departments  # type: ignore[attr-defined]


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

_DAY = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
# "2027-02-05~2027-02-11", also with a full-width tilde or 至 and spaces around them.
_RANGE = re.compile(r"\s*[~～至]\s*")


def _day(text: str, *, year: int, line: int) -> dt.date:
    match = _DAY.match(text)
    day = None
    if match:
        try:
            day = dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            day = None
    if day is None:
        raise forms.ValidationError(
            _("第 %(line)d 行：“%(text)s”不是有效的日期，请写成 %(year)d-01-01 这样的形式。"),
            params={"line": line, "text": text, "year": year},
        )
    if day.year != year:
        raise forms.ValidationError(
            _("第 %(line)d 行：%(day)s 不在 %(year)d 年内。"),
            params={"line": line, "day": day.isoformat(), "year": year},
        )
    return day


def parse_day_lines(text: str, *, year: int, ranges: bool, default_name: str) -> dict[dt.date, str]:
    """``date [name]`` per line (with ``ranges``, also ``first~last [name]``): date -> name.

    Raises one ValidationError listing every bad line, so the administrator fixes them at once.
    """
    days: dict[dt.date, str] = {}
    errors: list[forms.ValidationError] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _RANGE.sub("~", raw.strip()) if ranges else raw.strip()
        if not line:
            continue
        when, _sep, name = line.partition(" ")
        name = name.strip() or default_name
        first_text, tilde, last_text = when.partition("~") if ranges else (when, "", "")
        try:
            first = _day(first_text, year=year, line=number)
            last = _day(last_text, year=year, line=number) if tilde else first
        except forms.ValidationError as exc:
            errors.append(exc)
            continue
        if last < first:
            errors.append(
                forms.ValidationError(
                    _("第 %(line)d 行：起始日期 %(first)s 晚于结束日期 %(last)s。"),
                    params={"line": number, "first": first.isoformat(), "last": last.isoformat()},
                )
            )
            continue
        day = first
        while day <= last:
            days[day] = name[:100]
            day += dt.timedelta(days=1)
    if errors:
        raise forms.ValidationError(errors)
    return days


def format_day_lines(days: dict[dt.date, str]) -> str:
    """The inverse of ``parse_day_lines``: consecutive days of one name become one range line."""
    lines: list[str] = []
    run: list[dt.date] = []
    for day in sorted(days):
        if run and (day - run[-1]).days == 1 and _base_name(days[day]) == _base_name(days[run[0]]):
            run.append(day)
            continue
        if run:
            lines.append(_range_line(run, days[run[0]]))
        run = [day]
    if run:
        lines.append(_range_line(run, days[run[0]]))
    return "\n".join(lines)


def _base_name(name: str) -> str:
    # "春节（补假）" continues "春节": one line for the whole break.
    return name.split("（")[0].split("(")[0].strip()


def _range_line(run: list[dt.date], name: str) -> str:
    span = run[0].isoformat() if len(run) == 1 else f"{run[0].isoformat()}~{run[-1].isoformat()}"
    return f"{span} {_base_name(name) or name}".strip()


class CalendarArrangementForm(forms.Form):
    """A whole year's arrangement as the State Council publishes it: holiday periods and make-up workdays."""

    year = forms.IntegerField(label=_("年份"), min_value=2000, max_value=2100)
    note = forms.CharField(
        label=_("依据"),
        max_length=200,
        help_text=_("例如：国务院办公厅关于2027年部分节假日安排的通知"),
    )
    holidays = forms.CharField(
        label=_("放假日期"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 50}),
        help_text=_(
            "每行一段：一天写 2027-01-01，连续几天写 2027-02-05~2027-02-11，后面可以空一格写名称"
            "（如“春节”）。已按法定节假日推算填好，请对照通知修改。"
        ),
    )
    workdays = forms.CharField(
        label=_("调休上班日"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 50}),
        help_text=_("每行一个日期，如 2027-02-20，后面可以空一格写说明。通知里的调休上班日都要填。"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        year = data.get("year")
        if year is None:
            return data
        for name, ranges, default in (
            ("holidays", True, str(_("放假"))),
            ("workdays", False, str(_("调休上班"))),
        ):
            try:
                data[f"{name}_days"] = parse_day_lines(
                    data.get(name, ""), year=year, ranges=ranges, default_name=default
                )
            except forms.ValidationError as exc:
                self.add_error(name, exc)
        both = sorted(set(data.get("holidays_days", {})) & set(data.get("workdays_days", {})))
        if both:
            raise forms.ValidationError(
                _("%(days)s 同时列为放假日和调休上班日，请只保留一处。"),
                params={"days": "、".join(day.isoformat() for day in both)},
            )
        return data
