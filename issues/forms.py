"""Forms of the staff site: case filters, staff intake, one form per case transition, patrol logs.

The forms collect input; the rules live in ``issues.workflow``. Fields the services
check themselves (a reason, a note, a photo of the fix) are optional here, so the
service's own message is what the user reads when something is missing; they carry the
HTML ``required`` attribute (``REQUIRED``) so the browser says so before anything is sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.choices import AREA_LEVEL_ORDER, TIER_CHOICES, AreaLevel, Role
from alleys.models import Area, Department
from alleys.people import Actor, Member
from alleys.scoping import scope_for
from dispatch.chain import TIER_ORDER
from dispatch.models import CategoryClass, CategoryType

from .choices import (
    CaseSource,
    CaseState,
    FeedbackSolved,
    PatrolKind,
    ReturnVisitChannel,
    Satisfaction,
    Urgency,
)
from .deadline_state import DueStatus
from .form_fields import DepartmentMultipleChoiceField, MultipleFileField, dispatchable_departments
from .models import Case, PatrolLog
from .patrols import patrol_alleys

digits = RegexValidator(r"^[0-9]{1,15}$", _("区域编码只能是数字。"))

# What a chief looks at on a patrol (日巡查) or a visit (周走访); a fixed list, so logs can be counted.
# The stored values are these Chinese words (the demo data, the API and exports use the same ones);
# the labels are their translations.
PATROL_CHECKLIST: list[tuple[str, Any]] = [
    ("下水道", _("下水道")),
    ("路灯", _("路灯")),
    ("消防通道", _("消防通道")),
    ("乱停乱放", _("乱停乱放")),
    ("环境卫生", _("环境卫生")),
    ("独居老人", _("独居老人")),
]
CHECKLIST_LABELS: dict[str, Any] = dict(PATROL_CHECKLIST)

# Sources a staff member may register (residents' forms and integrations come in by themselves).
STAFF_SOURCES = (CaseSource.HOTLINE, CaseSource.PATROL, CaseSource.VISIT, CaseSource.GRID_WORKER)


class AlleyChoiceField(forms.ModelChoiceField):
    """An alley, labelled with its community so two 'Xinhua alleys' can be told apart."""

    def label_from_instance(self, obj: Any) -> str:
        parent = obj.parent.name if obj.parent_id else ""
        return f"{parent} · {obj.name}" if parent else str(obj.name)


def _indented(area: Area) -> str:
    depth = AREA_LEVEL_ORDER.index(area.level) if area.level in AREA_LEVEL_ORDER else 0
    return "\u3000" * depth + str(area.name)


# --- the case list -------------------------------------------------------------------------------


# The state filter's two groups besides single states: the default (everything not final) and all.
STATE_OPEN = ""
STATE_ALL = "all"
# How many areas the area filter lists before it leaves out the alleys nobody is assigned to.
AREA_CHOICES_MAX = 300


class CaseFilterForm(forms.Form):
    """The case list's filters; every one is optional and arrives by GET."""

    q = forms.CharField(
        label=_("查询码、地址、内容或电话后四位"),
        required=False,
        max_length=100,
        help_text=_("电话后四位只查找您经办、可以查看联系方式的案件。"),
    )
    queue = forms.ChoiceField(label=_("待办"), required=False, widget=forms.HiddenInput)
    area = forms.CharField(label=_("区域/街巷"), required=False, validators=[digits], widget=forms.Select)
    state = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[(STATE_OPEN, _("未结案")), (STATE_ALL, _("全部（含已结案）")), *CaseState.choices],
    )
    tier = forms.ChoiceField(label=_("层级"), required=False, choices=[("", _("全部")), *TIER_CHOICES])
    category_class = forms.ModelChoiceField(
        label=_("分类"), required=False, queryset=CategoryClass.objects.all(), empty_label=_("全部")
    )
    category = forms.ModelChoiceField(
        label=_("事项类型"),
        required=False,
        queryset=CategoryType.objects.filter(is_active=True),
        empty_label=_("全部"),
    )
    due = forms.ChoiceField(label=_("期限"), required=False, choices=[("", _("全部")), *DueStatus.choices])
    source = forms.ChoiceField(
        label=_("来源"), required=False, choices=[("", _("全部")), *CaseSource.choices]
    )
    created_from = forms.DateField(
        label=_("提交日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        label=_("提交日期至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    mine = forms.ChoiceField(
        label=_("经办"),
        required=False,
        choices=[("", _("全部")), ("held", _("本单位办理")), ("assigned", _("由我承办"))],
    )
    overdue = forms.BooleanField(label=_("已超期"), required=False)
    supervised = forms.BooleanField(label=_("督办中"), required=False)
    ordering = forms.ChoiceField(
        label=_("排序"),
        required=False,
        choices=[
            ("", _("期限最近")),
            ("-created", _("最新提交")),
            ("created", _("最早提交")),
            ("-updated", _("最近更新")),
            ("updated", _("最早更新")),
        ],
    )

    def __init__(self, *args: Any, user: Actor, queues: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["queue"].choices = [("", ""), *((key, key) for key in queues)]  # type: ignore[attr-defined]
        scope = scope_for(user)
        # Every area the user sees, alleys included, while they are few (a community's); above
        # that, every area above the alleys plus the alleys the user is assigned to (a chief's own):
        # a street would otherwise list hundreds of alleys here.
        visible = Area.objects.visible_to(user).order_by("code")
        areas = list(visible[: AREA_CHOICES_MAX + 1])
        if len(areas) > AREA_CHOICES_MAX:
            areas = list(
                visible.filter(
                    ~Q(level__in=[AreaLevel.ALLEY, AreaLevel.BUILDING])
                    | Q(code__in=list(scope.area_prefixes))
                )
            )
        choices = [("", _("全部"))] + [(a.code, _indented(a)) for a in areas]
        self.fields["area"].widget.choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            raise forms.ValidationError(_("开始日期不能晚于结束日期。"))
        return data


# --- staff intake --------------------------------------------------------------------------------


class CaseIntakeForm(forms.Form):
    """A case registered by staff: a hotline/window call, or a problem found on a patrol or visit."""

    source = forms.ChoiceField(label=_("来源"), choices=[(s.value, s.label) for s in STAFF_SOURCES])
    alley = AlleyChoiceField(label=_("街巷/网格"), queryset=Area.objects.none())
    building = forms.ModelChoiceField(
        label=_("楼栋"),
        queryset=Area.objects.none(),
        required=False,
        help_text=_("街巷设有楼栋的，可选填所在楼栋；楼栋长登记本楼栋的问题时必选。"),
    )
    category = forms.ModelChoiceField(
        label=_("事项类型"),
        queryset=CategoryType.objects.filter(is_active=True).select_related("category_class"),
    )
    description = forms.CharField(
        label=_("问题描述"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    address_detail = forms.CharField(label=_("详细位置"), required=False, max_length=200)
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL)
    reporter_name = forms.CharField(label=_("反映人姓名"), required=False, max_length=50)
    reporter_phone = forms.CharField(
        label=_("反映人电话"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    consent = forms.BooleanField(label=_("反映人同意其联系方式用于办理和回访"), required=False, initial=True)
    start_tier = forms.ChoiceField(
        label=_("办理层级"),
        required=False,
        choices=[("", _("街巷服务团队（默认）"))] + [(t, AreaLevel(t).label) for t in TIER_ORDER[1:]],
        help_text=_("案件默认由街巷服务团队首先办理（小事不出巷）；您也可以在本人所在的层级直接登记办理。"),
    )
    photos = MultipleFileField(label=_("现场照片"), help_text=_("可选，可多张。"))
    patrol = forms.ModelChoiceField(
        queryset=PatrolLog.objects.none(), required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, user: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A building head sees their building, not its alley: offer the alley their building lies in.
        buildings = Area.objects.visible_to(user).filter(level=AreaLevel.BUILDING).select_related("parent")
        alleys = Area.objects.filter(
            Q(pk__in=Area.objects.visible_to(user).filter(level=AreaLevel.ALLEY).values("pk"))
            | Q(pk__in=buildings.values("parent_id"))
        ).select_related("parent")
        self.fields["alley"].queryset = alleys  # type: ignore[attr-defined]
        self.fields["building"].queryset = buildings  # type: ignore[attr-defined]
        self.fields["building"].empty_label = _("不指定楼栋")  # type: ignore[attr-defined]
        if not buildings.exists():
            del self.fields["building"]  # communities without buildings: the form as before
        self.fields["alley"].empty_label = _("请选择街巷")  # type: ignore[attr-defined]
        self.fields["patrol"].queryset = PatrolLog.objects.visible_to(user).filter(chief=user)  # type: ignore[attr-defined]
        self.fields["category"].choices = grouped_categories()  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("source", default_source(user))
            # A chief with one alley has nothing to choose.
            only = list(alleys.values_list("pk", flat=True)[:2])
            if len(only) == 1:
                self.initial.setdefault("alley", only[0])


def grouped_categories() -> list[tuple[Any, Any]]:
    """The active category types grouped by their class (A/B/C/D), for a select with optgroups."""
    groups: dict[str, list[tuple[int, str]]] = {}
    types = CategoryType.objects.filter(is_active=True).select_related("category_class")
    for item in types.order_by("category_class__code", "sort_order", "code"):
        groups.setdefault(str(item.category_class), []).append((item.pk, f"{item.code} {item.name}"))
    return [("", _("请选择事项类型")), *groups.items()]


def default_source(user: Actor) -> str:
    """What a staff member most likely registers: grid workers report, chiefs patrol, offices take calls."""
    roles = scope_for(user).roles
    if Role.GRID_WORKER in roles:
        return CaseSource.GRID_WORKER
    if roles & {Role.CHIEF, Role.DEPUTY_CHIEF}:
        return CaseSource.PATROL
    return CaseSource.HOTLINE


# --- one form per case transition -----------------------------------------------------------------


# The browser's own check of a field the service requires (the form leaves it to the service).
REQUIRED = {"required": True}


class NoteForm(forms.Form):
    """An optional note (accept, start, supervise, chase)."""

    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class WhistleForm(forms.Form):
    """吹哨: the reason, and (from the street) the responsible departments and urgency."""

    reason = forms.CharField(
        label=_("吹哨理由"), required=False, widget=forms.Textarea(attrs={"rows": 3, **REQUIRED})
    )
    departments = DepartmentMultipleChoiceField(
        label=_("建议责任部门"),
        required=False,
        queryset=Department.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("街道吹哨时必须指定至少一个责任部门；按住 Ctrl（Mac 上按 ⌘）可多选。"),
    )
    urgency = forms.ChoiceField(
        label=_("紧急程度"), required=False, choices=[("", _("不变")), *Urgency.choices]
    )

    def __init__(self, *args: Any, case: Case, user: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if case.tier == AreaLevel.STREET:
            # The departments the district organisation department will be able to dispatch to.
            district = Area.objects.get(code=case.alley.code_at(AreaLevel.DISTRICT))
            self.fields["departments"].queryset = dispatchable_departments(user, district)  # type: ignore[attr-defined]
        else:
            del self.fields["departments"]


class ResolveForm(forms.Form):
    """办结: what was done, with photos of the fix."""

    note = forms.CharField(
        label=_("办理结果"), required=False, widget=forms.Textarea(attrs={"rows": 3, **REQUIRED})
    )
    photos = MultipleFileField(label=_("整改照片"), help_text=_("可选，可多张。"))
    photos_public = forms.BooleanField(
        label=_("照片可公开（已确认没有人脸、门牌等个人信息）"), required=False
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if case.category.fix_photo_required:
            # Said before sending, not only in the service's refusal (the service still checks).
            photos = self.fields["photos"]
            photos.widget.attrs.update(REQUIRED)
            photos.help_text = _("这类问题办结时须上传整改后的照片（可多张）。")


class VerifyForm(forms.Form):
    """核实: the community checks the fix on site."""

    passed = forms.TypedChoiceField(
        label=_("核实结果"),
        choices=[("1", _("通过")), ("0", _("未通过，退回重办"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        initial="1",
    )
    note = forms.CharField(
        label=_("说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("核实未通过时必填。"),
    )


class FeedbackForm(forms.Form):
    """电话回访 within the feedback window: the community records the reporter's answer."""

    solved = forms.ChoiceField(label=_("是否解决"), choices=FeedbackSolved.choices, widget=forms.RadioSelect)
    satisfaction = forms.ChoiceField(
        label=_("满意度"), choices=Satisfaction.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(label=_("群众意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReturnVisitForm(forms.Form):
    """回访 once the window passed: one attempt, by phone or in person; the answer when reached.

    Every field shows at once (no script on the staff pages): the service refuses an answer
    without the resident reached, or a reached visit without both answers.
    """

    channel = forms.ChoiceField(
        label=_("回访方式"), choices=ReturnVisitChannel.choices, widget=forms.RadioSelect
    )
    visited_at = forms.DateTimeField(
        label=_("回访时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("不填为现在。"),
    )
    reached = forms.TypedChoiceField(
        label=_("是否联系上反映人"),
        choices=[("1", _("联系上了")), ("0", _("没有联系上"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    solved = forms.ChoiceField(
        label=_("问题是否解决（联系上时填写）"),
        choices=FeedbackSolved.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    satisfaction = forms.ChoiceField(
        label=_("是否满意（联系上时填写）"),
        choices=Satisfaction.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    words = forms.CharField(
        label=_("群众原话（不公开）"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    note = forms.CharField(
        label=_("情况说明（如无人接听、关机、不在家）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RejectForm(forms.Form):
    """不予受理: the reason the resident will read."""

    reason = forms.CharField(
        label=_("不予受理理由（群众可见）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, **REQUIRED}),
    )
    confirm = forms.BooleanField(
        label=_("我确认不予受理：案件就此结束办理，理由将告知群众。"),
        error_messages={"required": _("请勾选确认后再不予受理。")},
    )


class MergeForm(forms.Form):
    """合并: the tracking code of the case this one duplicates."""

    into = forms.CharField(label=_("合并到（主案件查询码）"), max_length=12)
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(
        label=_("我确认合并：本案件就此结束，由主案件继续办理。"),
        error_messages={"required": _("请勾选确认后再合并。")},
    )

    def clean_into(self) -> str:
        return str(self.cleaned_data["into"]).strip().upper()


TRANSITION_FORMS: dict[str, type[forms.Form]] = {
    "accept": NoteForm,
    "start": NoteForm,
    "whistle": WhistleForm,
    "resolve": ResolveForm,
    "verify": VerifyForm,
    "feedback": FeedbackForm,
    "return-visit": ReturnVisitForm,
    "reject": RejectForm,
    "merge": MergeForm,
    "supervise": NoteForm,
    "chase": NoteForm,
}


def transition_form(name: str, *, case: Case, user: Actor, data: Any = None, files: Any = None) -> forms.Form:
    """The form for transition ``name`` on ``case`` (prefixed, so several live on one page)."""
    form_class = TRANSITION_FORMS[name]
    kwargs: dict[str, Any] = {"prefix": name}
    if data is not None:
        kwargs["data"] = data
        kwargs["files"] = files
    if form_class is WhistleForm:
        return WhistleForm(case=case, user=user, **kwargs)
    if form_class is ResolveForm:
        return ResolveForm(case=case, **kwargs)
    return form_class(**kwargs)


# --- patrols and visits ----------------------------------------------------------------------------


class PatrolForm(forms.ModelForm):
    """A chief's daily patrol or weekly visit of one alley."""

    alley = AlleyChoiceField(label=_("街巷/网格"), queryset=Area.objects.none())
    checked = forms.MultipleChoiceField(
        label=_("检查项目"),
        choices=PATROL_CHECKLIST,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = PatrolLog
        fields = ("kind", "alley", "date", "checked", "households_visited", "notes", "expense_yuan")
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 4}),
            "kind": forms.RadioSelect,
        }
        help_texts = {
            "expense_yuan": _("巷长自掏腰包的电话费、茶水费等，用于统计工作经费。"),
            "date": _("走访记录按所在周的周一记。"),
        }

    def __init__(self, *args: Any, user: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["alley"].queryset = patrol_alleys(user)  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("date", timezone.localdate())
            self.initial.setdefault("kind", PatrolKind.PATROL)
            alleys = list(self.fields["alley"].queryset[:2])  # type: ignore[attr-defined]
            if len(alleys) == 1:
                self.initial.setdefault("alley", alleys[0].pk)

    def clean_date(self) -> dt.date:
        date: dt.date = self.cleaned_data["date"]
        if date > timezone.localdate():
            raise forms.ValidationError(_("不能记录未来的巡查。"))
        return date

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        date, kind, alley = data.get("date"), data.get("kind"), data.get("alley")
        if date and kind == PatrolKind.VISIT:
            # One visit log per week, dated the Monday (the model's convention).
            date = date - dt.timedelta(days=date.weekday())
            data["date"] = date
            self.instance.date = date
        if date and kind and alley:
            taken = PatrolLog.objects.filter(chief=self.user, alley=alley, kind=kind, date=date)
            if self.instance.pk:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                message = (
                    _("本周已经记录过该街巷的走访，请在原记录上补充。")
                    if kind == PatrolKind.VISIT
                    else _("这一天已经记录过该街巷的巡查，请在原记录上补充。")
                )
                raise forms.ValidationError(message)
        return data
