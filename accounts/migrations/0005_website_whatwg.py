"""Organization websites parsed as browsers parse them (WHATWG): stored in normalized form,
and blanked, with a report, where they could not be made safe (a user name before the host, a
backslash, a disguised host)."""

from django.db import migrations

import mechanisms.web_urls


def websites_normalize(apps, schema_editor):
    Organization = apps.get_model("accounts", "Organization")
    rewritten, blanked = mechanisms.web_urls.stored_web_urls_normalize(
        Organization, field="website", label="name"
    )
    report = mechanisms.web_urls.stored_web_urls_report("Organization websites", rewritten, blanked)
    if report:
        print(f"\n{report}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_staff_roles"),
    ]

    operations = [
        migrations.AlterField(
            model_name="organization",
            name="website",
            field=mechanisms.web_urls.WebURLField(blank=True, verbose_name="website"),
        ),
        migrations.RunPython(websites_normalize, migrations.RunPython.noop, elidable=True),
    ]
