"""Admin forms of the territory app."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import AreaLevel
from .models import Area
from .permissions import can_manage_area
from .scoping import Scope


class AreaForm(forms.ModelForm):
    """An area, checked against the editor's territory and the tree's printed codes."""

    # Set by the admin on the per-request form class; None means "no territorial check".
    editor_scope: ClassVar[Scope | None] = None

    class Meta:
        model = Area
        fields = ("code", "name", "level", "parent", "is_active")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        code = cleaned.get("code")
        scope = self.editor_scope
        if code and scope is not None and not can_manage_area(scope, code):
            self.add_error("code", _("该编码不在您管辖的区域之下。"))
        if self.instance.pk and "code" in self.changed_data and self.instance.children.exists():
            # Children's codes start with this one, and the boards print it: renumber the subtree instead.
            self.add_error("code", _("该区域已有下级区域，不能修改编码。"))
        return cleaned


class BuildingForm(AreaForm):
    """A building (楼栋) under an alley the editor manages: the level is fixed."""

    class Meta:
        model = Area
        fields = ("parent", "code", "name", "is_active")
        help_texts = {"code": _("街巷编码（15 位）后加 3 位楼栋序号，共 18 位。")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.level = AreaLevel.BUILDING
