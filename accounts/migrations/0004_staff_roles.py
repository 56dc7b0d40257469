"""Staff roles as permission groups: Moderator and Campaign editor (accounts.roles)."""

from django.db import migrations

from accounts.roles import roles_migrate


def create_roles(apps, schema_editor):
    # Roles name models that later migrations add; accounts 0012 grants those.
    roles_migrate(apps, schema_editor, missing_ok=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_iphashkey"),
        ("petitions", "0007_staff_permissions_and_flagged_queue"),
        ("letters", "0003_moderation_and_retention"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # Undoing it keeps the groups: staff may belong to them, and they hold no data of their own.
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
