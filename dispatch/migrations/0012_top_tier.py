"""Categories set how high a case climbs, not where it starts: every report now starts in the alley.

``default_tier`` (the tier a case started at) becomes ``top_tier`` (the highest tier a missed
deadline escalates it to): one tier above the old start, so a class that started at the
community ("社区协调") now climbs to the street at most, and a district class to the city.
"""

from django.db import migrations, models

ORDER = ["alley", "community", "street", "district", "city"]


def shift(apps, step):
    for name in ("CategoryClass", "CategoryType"):
        model = apps.get_model("dispatch", name)
        for row in model.objects.exclude(top_tier=""):
            index = min(max(ORDER.index(row.top_tier) + step, 0), len(ORDER) - 1)
            model.objects.filter(pk=row.pk).update(top_tier=ORDER[index])


def forwards(apps, schema_editor):
    shift(apps, +1)


def backwards(apps, schema_editor):
    shift(apps, -1)


TIERS = [("city", "市"), ("district", "区"), ("street", "街道"), ("community", "社区"), ("alley", "街巷/网格")]


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0011_orders_to_issues")]

    operations = [
        migrations.RenameField("categoryclass", "default_tier", "top_tier"),
        migrations.RenameField("categorytype", "default_tier", "top_tier"),
        migrations.RunPython(forwards, backwards),
        migrations.AlterField(
            model_name="categoryclass",
            name="top_tier",
            field=models.CharField(
                choices=TIERS,
                help_text="超过期限时自动上报最高到这一层级，在此层级超期则自动督办；更高层级须由工作人员吹哨。",
                max_length=16,
                verbose_name="最高办理层级",
            ),
        ),
        migrations.AlterField(
            model_name="categorytype",
            name="top_tier",
            field=models.CharField(
                blank=True,
                choices=TIERS,
                help_text="留空则按分类的最高办理层级。",
                max_length=16,
                verbose_name="最高办理层级",
            ),
        ),
        migrations.AddField(
            model_name="categorytype",
            name="alert_tier",
            field=models.CharField(
                blank=True,
                choices=TIERS,
                help_text="群众反映后立即告知社区直至这一层级的单位（例如危房、消防隐患告知社区和街道）；留空则不提前告知。标为紧急的反映至少告知社区。",
                max_length=16,
                verbose_name="立即告知至",
            ),
        ),
    ]
