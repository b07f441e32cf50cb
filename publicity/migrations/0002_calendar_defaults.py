# The calendar shipped with the platform (publicity/defaults.py): national 2022–2026, Guangxi 2022–2025.

from django.db import migrations


def load(apps, schema_editor):  # noqa: ANN001, ANN201
    from publicity.defaults import load_defaults

    load_defaults(apps.get_model("publicity", "CalendarYear"), apps.get_model("publicity", "CalendarDay"))


class Migration(migrations.Migration):
    dependencies = [("publicity", "0001_calendar")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
