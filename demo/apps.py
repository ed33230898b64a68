from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo city: territory, people, a year of cases and evaluations (``manage.py seed_demo``)."""

    name = "demo"
    verbose_name = _("演示数据")
