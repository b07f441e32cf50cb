"""The bureau feed leaves the exchange app for its own (nrb): only Django's idea of which app owns the two
models changes; the tables, their rows and their index stay as exchange 0002 made them (exchange 0003 drops
the models from exchange's state)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contracts", "0005_filing_register_and_recall"),
        ("exchange", "0002_filing_shares"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="FilingShare",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("cbhtbm", models.CharField(max_length=19, verbose_name="承包合同编码")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="入队时间")),
                        (
                            "entry",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="share",
                                to="contracts.registerentry",
                                verbose_name="登记簿记录",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "exchange_filingshare",
                        "verbose_name": "待共享的备案合同",
                        "verbose_name_plural": "待共享的备案合同",
                        "ordering": ["id"],
                        "indexes": [
                            models.Index(
                                fields=["cbhtbm"], name="filingshare_code_prefix", opclasses=["varchar_pattern_ops"]
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="FilingDelivery",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "channel",
                            models.CharField(
                                choices=[("api", "接口拉取"), ("folder", "目录导出")], max_length=8, verbose_name="方式"
                            ),
                        ),
                        ("part", models.CharField(max_length=20, verbose_name="内容")),
                        ("path", models.CharField(blank=True, max_length=500, verbose_name="导出目录")),
                        ("sha256", models.CharField(max_length=64, verbose_name="SHA-256")),
                        ("delivered_at", models.DateTimeField(auto_now_add=True, verbose_name="交付时间")),
                        (
                            "recipient",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="接收人",
                            ),
                        ),
                        (
                            "share",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="deliveries",
                                to="nrb.filingshare",
                                verbose_name="备案合同",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "exchange_filingdelivery",
                        "verbose_name": "备案共享交付记录",
                        "verbose_name_plural": "备案共享交付记录",
                        "ordering": ["-delivered_at"],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
