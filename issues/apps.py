from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IssuesConfig(AppConfig):
    """The case and its one state machine: intake, whistles, orders, the timeline, notifications, the sweep."""

    name = "issues"
    verbose_name = _("诉求案件")

    def ready(self) -> None:
        from dispatch.calendar import calendar_changed

        from .calendar_watch import recompute_after_commit
        from .notify import connect_signals as connect_notify
        from .reference import connect_signals as connect_reference

        calendar_changed.connect(recompute_after_commit, dispatch_uid="recompute-provisional")
        connect_reference()
        connect_notify()
