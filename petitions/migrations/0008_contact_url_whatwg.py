"""Targets' public contact pages parsed as browsers parse them (WHATWG): stored in normalized
form, and blanked, with a report, where they could not be made safe."""

from django.db import migrations

import mechanisms.web_urls


def contact_urls_normalize(apps, schema_editor):
    Target = apps.get_model("petitions", "Target")
    rewritten, blanked = mechanisms.web_urls.stored_web_urls_normalize(
        Target, field="contact_url", label="title"
    )
    report = mechanisms.web_urls.stored_web_urls_report(
        "Target contact pages", rewritten, blanked
    )
    if report:
        print(f"\n{report}")


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0007_staff_permissions_and_flagged_queue"),
    ]

    operations = [
        migrations.AlterField(
            model_name="target",
            name="contact_url",
            field=mechanisms.web_urls.WebURLField(blank=True, verbose_name="public contact page"),
        ),
        migrations.RunPython(contact_urls_normalize, migrations.RunPython.noop, elidable=True),
    ]
