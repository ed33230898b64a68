from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    """Tiers, deadlines, the business calendar, whistles, dispatch orders, the sweep, notifications."""

    name = "dispatch"
    verbose_name = _("吹哨派单")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .calendar_watch import calendar_changed
        from .deadlines import clear_policy_cache
        from .models import CalendarDay, CalendarYear, DeadlinePolicy

        # An admin's change to the calendar or a policy takes effect at once in this process
        # (other processes pick it up within a minute); a calendar change also recomputes the
        # provisional deadlines after commit.
        for model in (CalendarDay, CalendarYear):
            post_save.connect(calendar_changed, sender=model, dispatch_uid=f"calendar-{model.__name__}-save")
            post_delete.connect(calendar_changed, sender=model, dispatch_uid=f"calendar-{model.__name__}-del")
        post_save.connect(clear_policy_cache, sender=DeadlinePolicy, dispatch_uid="policy-save")
        post_delete.connect(clear_policy_cache, sender=DeadlinePolicy, dispatch_uid="policy-del")

        from .notify import connect_signals

        connect_signals()
