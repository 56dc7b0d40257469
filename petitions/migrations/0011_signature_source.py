"""A signature remembers the sponsor whose share link brought it (issue 18)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_membership_roles"),
        ("petitions", "0010_emails_in_the_outbox"),
    ]

    operations = [
        migrations.AddField(
            model_name="signature",
            name="source",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="accounts.organization",
                verbose_name="came through the link of",
            ),
        ),
    ]
