from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    """In-service Party members' 双报到: registrations, service needs, claims, alley service teams."""

    name = "members"
    verbose_name = _("在职党员双报到")
