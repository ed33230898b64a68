from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    """Tiers, deadlines, the business calendar, whistles, dispatch orders, the sweep, notifications."""

    name = "dispatch"
    verbose_name = _("吹哨派单")
