"""Install the rollup refresh (every minute) and the nightly full rebuild once; the admin may edit them."""

from django.db import migrations

EVERY_MINUTE = "统计数据刷新（看板，每分钟）"
NIGHTLY = "统计数据全量重算（每日凌晨）"


def install(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=EVERY_MINUTE,
        defaults={"task": "evaluation.refresh_rollups", "interval": every_minute, "enabled": True},
    )
    night, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.get_or_create(
        name=NIGHTLY,
        defaults={
            "task": "evaluation.refresh_rollups",
            "crontab": night,
            "kwargs": '{"full": true}',
            "enabled": True,
        },
    )


def uninstall(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task="evaluation.refresh_rollups").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
