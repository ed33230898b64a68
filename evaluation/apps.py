from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    """Satisfaction, one-whistle-one-evaluation, annual assessment, rates, dashboards, exports."""

    name = "evaluation"
    verbose_name = _("考核评价")
