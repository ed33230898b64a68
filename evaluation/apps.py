from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    """Satisfaction, one-whistle-one-evaluation, annual assessment, rates, dashboards, exports."""

    name = "evaluation"
    verbose_name = _("考核评价")

    def ready(self) -> None:
        from issues.selectors import register_pending_evaluations

        from .selectors import pending_evaluations

        # The staff to-do page (issues) lists the evaluations a community owes.
        register_pending_evaluations(pending_evaluations)
