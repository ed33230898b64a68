"""Facts by day (rolling windows and custom ranges) and the open snapshot's near count.

Existing facts get their day from their case's submission (or their order's dispatch), in local
time as ``month`` and ``week`` were; the next refresh rewrites the snapshot with ``near``.
"""

from typing import Any

from django.db import migrations, models
from django.utils import timezone

CHUNK = 2000


def backfill_days(apps: Any, schema_editor: Any) -> None:
    CaseFact = apps.get_model("evaluation", "CaseFact")
    OrderFact = apps.get_model("evaluation", "OrderFact")
    Case = apps.get_model("issues", "Case")
    DispatchOrder = apps.get_model("issues", "DispatchOrder")
    for fact_model, source, key, moment in (
        (CaseFact, Case, "case_id", "created_at"),
        (OrderFact, DispatchOrder, "order_id", "dispatched_at"),
    ):
        ids = list(fact_model.objects.filter(day__isnull=True).values_list(key, flat=True).order_by(key))
        for start in range(0, len(ids), CHUNK):
            batch = ids[start : start + CHUNK]
            by_day: dict[Any, list[int]] = {}
            for pk, when in source.objects.filter(pk__in=batch).values_list("pk", moment):
                by_day.setdefault(timezone.localtime(when).date(), []).append(pk)
            for day, pks in by_day.items():
                fact_model.objects.filter(**{f"{key}__in": pks}).update(day=day)


class Migration(migrations.Migration):

    dependencies = [
        ('evaluation', '0004_attendance_and_consultation'),
        ('issues', '0017_case_verify_due'),
    ]

    operations = [
        migrations.AddField(
            model_name='casefact',
            name='day',
            field=models.DateField(null=True),
        ),
        migrations.AddField(
            model_name='openstat',
            name='near',
            field=models.PositiveIntegerField(default=0, verbose_name='临期'),
        ),
        migrations.AddField(
            model_name='orderfact',
            name='day',
            field=models.DateField(null=True),
        ),
        migrations.AddIndex(
            model_name='casefact',
            index=models.Index(fields=['day', 'alley_code'], name='casefact_day_alley'),
        ),
        migrations.AddIndex(
            model_name='orderfact',
            index=models.Index(fields=['day', 'area_code'], name='orderfact_day_area'),
        ),
        migrations.RunPython(backfill_days, migrations.RunPython.noop),
    ]
