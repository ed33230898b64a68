from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlleysConfig(AppConfig):
    """Territory, people, service teams and departments."""

    name = "alleys"
    verbose_name = _("街巷与人员")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from core.sessions import stamp_login

        from .reference import connect_signals

        connect_signals()
        # People sign in here: each session remembers its login time for the absolute limit.
        user_logged_in.connect(stamp_login, dispatch_uid="core.sessions.stamp_login")
