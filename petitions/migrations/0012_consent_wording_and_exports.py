"""Opt-ins keep the words the signer agreed to and when their organization last exported
them; each export of supporters is recorded (issue 18)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0011_signature_source"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ConsentWording",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("text", models.TextField(verbose_name="text")),
                ("language", models.CharField(max_length=10, verbose_name="language")),
                ("digest", models.CharField(editable=False, max_length=64, unique=True)),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now,
                        editable=False,
                        verbose_name="first used at",
                    ),
                ),
            ],
            options={
                "verbose_name": "consent wording",
                "verbose_name_plural": "consent wordings",
            },
        ),
        migrations.AddField(
            model_name="sponsoroptin",
            name="exported_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last exported at"),
        ),
        migrations.AddField(
            model_name="sponsoroptin",
            name="wording",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="petitions.consentwording",
                verbose_name="consent wording",
            ),
        ),
        migrations.CreateModel(
            name="SupporterExport",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="exported at"
                    ),
                ),
                ("since", models.DateField(blank=True, null=True, verbose_name="consent from")),
                ("until", models.DateField(blank=True, null=True, verbose_name="consent until")),
                ("rows", models.PositiveIntegerField(verbose_name="supporters")),
                (
                    "exported_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="exported by",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="supporter_exports",
                        to="accounts.organization",
                    ),
                ),
                (
                    "petition",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="petitions.petition",
                    ),
                ),
            ],
            options={
                "verbose_name": "supporter export",
                "verbose_name_plural": "supporter exports",
                "ordering": ("-created_at",),
            },
        ),
    ]
