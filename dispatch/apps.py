from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    """Where a case goes and by when: categories, the chain of tiers, deadline policies, the working calendar."""

    name = "dispatch"
    verbose_name = _("层级与时限")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .calendar import announce_change
        from .deadlines import clear_policy_cache
        from .models import CalendarDay, CalendarYear, DeadlinePolicy

        # An admin's change to the calendar or a policy takes effect at once in this process
        # (other processes pick it up within a minute); a calendar change is announced
        # (``calendar.calendar_changed``) so the case layer recomputes provisional deadlines.
        for model in (CalendarDay, CalendarYear):
            post_save.connect(announce_change, sender=model, dispatch_uid=f"calendar-{model.__name__}-save")
            post_delete.connect(announce_change, sender=model, dispatch_uid=f"calendar-{model.__name__}-del")
        post_save.connect(clear_policy_cache, sender=DeadlinePolicy, dispatch_uid="policy-save")
        post_delete.connect(clear_policy_cache, sender=DeadlinePolicy, dispatch_uid="policy-del")
