# The reporter's number in its one normal form (issues.workflow.cases.reporter_number): staff intake,
# the REST API and Open311 used to store it as typed ("+86 138-1234-5678", full-width digits), so such
# a case never showed in the resident's 我的反映, which looks cases up by the verified digits. Only rows
# that are not already plain digits, or carry 86 in front, are read; a value that is no phone number
# is left as it was (the staff see it and can still call).

from django.core.exceptions import ValidationError
from django.db import migrations
from django.db.models import Q

from core.phones import normalize_phone

BATCH = 2000

def normalize(apps, schema_editor):  # type: ignore[no-untyped-def]
    Case = apps.get_model("issues", "Case")
    typed = Case.objects.exclude(reporter_phone="").filter(
        Q(reporter_phone__regex=r"[^0-9]") | Q(reporter_phone__regex=r"^86[0-9]{11}$")
    )
    changed: list[tuple[int, str]] = []
    for pk, phone in typed.values_list("pk", "reporter_phone").iterator(chunk_size=BATCH):
        try:
            digits = normalize_phone(phone)
        except ValidationError:
            continue
        if digits != phone:
            changed.append((pk, digits))
    for pk, digits in changed:
        Case.objects.filter(pk=pk).update(reporter_phone=digits)

class Migration(migrations.Migration):

    dependencies = [
        ('issues', '0022_photo_processing'),
    ]

    operations = [
        migrations.RunPython(normalize, migrations.RunPython.noop, elidable=True),
    ]
