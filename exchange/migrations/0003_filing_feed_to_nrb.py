"""The natural resources bureau's feed is the nrb app's now (nrb 0001): exchange forgets its two models; the
tables stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0002_filing_shares"),
        ("nrb", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="FilingDelivery"),
                migrations.DeleteModel(name="FilingShare"),
            ],
            database_operations=[],
        ),
    ]
