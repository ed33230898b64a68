from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IssuesConfig(AppConfig):
    """The case: intake, states, timeline, photos and the residents' pages."""

    name = "issues"
    verbose_name = _("诉求案件")

    def ready(self) -> None:
        from .reference import connect_signals

        connect_signals()
