"""IpHashKey, moved from accounts with its table (accounts_iphashkey) unchanged."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("accounts", "0003_iphashkey")]
    # The state of accounts gives the model up in its 0007; the table is the one 0003 created.
    run_before = [("accounts", "0007_iphashkey_moved")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="IpHashKey",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("period", models.CharField(max_length=16, unique=True, verbose_name="period")),
                        ("secret", models.CharField(editable=False, max_length=128)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="created at")),
                    ],
                    options={
                        "verbose_name": "IP hash key",
                        "verbose_name_plural": "IP hash keys",
                        "ordering": ("-period",),
                        "db_table": "accounts_iphashkey",
                    },
                ),
            ],
            database_operations=[],
        )
    ]
