"""Staff roles gain the campaign tools' permissions (response thresholds, paper sheets, bounces):
the models exist now, so the whole role table applies strictly (accounts.roles)."""

from django.db import migrations

from accounts.roles import roles_migrate


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_webhooks"),
        ("petitions", "0018_campaign_tools_merge"),
        ("letters", "0008_campaign_tools_merge"),
        ("mechanisms", "0004_campaign_tools_merge"),
    ]

    operations = [migrations.RunPython(roles_migrate, migrations.RunPython.noop)]
