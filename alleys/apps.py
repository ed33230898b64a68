from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlleysConfig(AppConfig):
    """Territory, people, service teams and departments."""

    name = "alleys"
    verbose_name = _("街巷与人员")

    def ready(self) -> None:
        from .reference import connect_signals

        connect_signals()
