"""The in-app inbox is accounts' now (accounts 0003): publicity forgets the model; the table stays."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("publicity", "0004_notice_subjects"),
        ("accounts", "0003_notification"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Notification")],
            database_operations=[],
        ),
    ]
