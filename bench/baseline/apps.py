"""App config of the bare baseline (mounted only by bench.settings)."""

from __future__ import annotations

from django.apps import AppConfig


class BaselineConfig(AppConfig):
    """The bare DRF/Celery baseline used by the benchmarks."""

    name = "bench.baseline"
    label = "bench_baseline"
    verbose_name = "bench baseline"
    default_auto_field = "django.db.models.BigAutoField"
