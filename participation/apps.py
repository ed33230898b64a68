from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipationConfig(AppConfig):
    """Residents taking part: verified phone numbers (one-time codes by SMS)."""

    name = "participation"
    verbose_name = _("群众参与")
