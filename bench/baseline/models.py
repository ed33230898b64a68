"""Single-table models: what a bare create, detail and task touch."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class BareItem(models.Model):
    """One row of a single table: the bare counterpart of a submitted case."""

    title = models.CharField(max_length=100)
    body = models.TextField(blank=True)
    phone = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.title


class BareTick(models.Model):
    """A row the bare Celery task updates once per task."""

    done_at = models.DateTimeField(null=True, blank=True)
    hits = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.pk)
