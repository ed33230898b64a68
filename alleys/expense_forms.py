"""The staff pages' forms for chiefs' expenses; the rules stay in ``alleys/expenses.py``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.photos import clean_photo

from .choices import AreaLevel, ExpensePurpose, ExpenseState, Role
from .models import EXPENSE_MAX, EXPENSE_MIN, Area
from .people import Actor
from .scoping import scope_for


class ExpenseForm(forms.Form):
    """A chief's expense: for which alley, how much, what for, when, and the receipt."""

    alley = forms.ModelChoiceField(label=_("街巷"), queryset=Area.objects.none(), empty_label=None)
    amount = forms.DecimalField(
        label=_("金额（元）"), min_value=EXPENSE_MIN, max_value=EXPENSE_MAX, max_digits=8, decimal_places=2
    )
    purpose = forms.ChoiceField(label=_("用途"), choices=ExpensePurpose.choices)
    description = forms.CharField(
        label=_("说明"), max_length=200, required=False, help_text=_("用途为“其他”时必填。")
    )
    spent_on = forms.DateField(label=_("支出日期"), widget=forms.DateInput(attrs={"type": "date"}))
    receipt = forms.FileField(
        label=_("票据照片"),
        help_text=_("拍下发票或收据，JPG 或 PNG。"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )

    def __init__(self, *args: Any, user: Actor, resubmit: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = [code for role, code, _dept in scope_for(user).assignments if role == Role.CHIEF and code]
        alleys = Area.objects.filter(level=AreaLevel.ALLEY, code__in=codes)
        if scope_for(user).is_global:
            alleys = Area.objects.filter(level=AreaLevel.ALLEY)
        self.fields["alley"].queryset = alleys  # type: ignore[attr-defined]
        if resubmit:
            # The alley stays; a new receipt is optional.
            del self.fields["alley"]
            self.fields["receipt"].required = False
            self.fields["receipt"].help_text = _("不换票据可留空。")

    def clean_receipt(self) -> Any:
        upload: UploadedFile | None = self.cleaned_data.get("receipt")
        if not upload:
            return None
        # The same check as the service's (which returns the cleaned photo as it is, unchecked again).
        return clean_photo(upload)

    def clean_spent_on(self) -> dt.date:
        value: dt.date = self.cleaned_data["spent_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("支出日期不能晚于今天。"))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("purpose") == ExpensePurpose.OTHER and not (data.get("description") or "").strip():
            self.add_error("description", _("用途为“其他”时请写明用途。"))
        return data


class ExpenseFilterForm(forms.Form):
    """The list's filters: state and year."""

    state = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部")), *ExpenseState.choices], required=False
    )
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100, required=False)


class ReturnForm(forms.Form):
    """Returning an expense to the chief: why, and a ticked confirmation."""

    reason = forms.CharField(label=_("退回理由"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(label=_("确认退回给巷长修改"))


class PayForm(forms.Form):
    """Marking an expense reimbursed: the date, and a ticked confirmation (it cannot be undone)."""

    paid_on = forms.DateField(label=_("报销日期"), widget=forms.DateInput(attrs={"type": "date"}))
    confirm = forms.BooleanField(label=_("确认已实报实销（不可撤销）"))
