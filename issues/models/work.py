"""The staff's own working records on cases: internal notes and saved views of the case list."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.people import Actor

from .cases import Case


class CaseNoteQuerySet(models.QuerySet["CaseNote"]):
    """Internal notes, scoped like their cases."""

    def visible_to(self, user: Actor) -> CaseNoteQuerySet:
        return self.filter(case__in=Case.objects.visible_to(user))


class CaseNote(models.Model):
    """A staff-only note on a case (内部备注): never on the tracking page, Open311 or the public timeline.

    Written only by ``issues.workflow.assignment.case_note``; read by whoever sees the case.
    """

    case = models.ForeignKey(
        Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="internal_notes", db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # only deleting a user looks it up; PROTECT keeps the note's author
    )
    text = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    objects = CaseNoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("内部备注")
        verbose_name_plural = _("内部备注")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="case_note_case_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.created_at:%Y-%m-%d %H:%M}"


class SavedView(models.Model):
    """A user's named filter of the case list (the query string), shown only to that user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(_("名称"), max_length=40)
    query = models.CharField(_("筛选条件"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("保存的视图")
        verbose_name_plural = _("保存的视图")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_view_name_per_user")]

    def __str__(self) -> str:
        return self.name
