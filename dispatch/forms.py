"""The admin's one-page form for a whole year's holidays and make-up workdays."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils.translation import gettext as _

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
