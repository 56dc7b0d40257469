"""Staff roles as permission groups: Moderator and Campaign editor (accounts.roles)."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

from accounts.roles import roles_apply


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations ran (post_migrate); on a fresh
    # database they would not exist yet here, so create them now for every app.
    for app_config in global_apps.get_app_configs():
        create_permissions(
            app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias
        )
    roles_apply(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
        # Roles name models that later migrations add; accounts 0012 grants those.
        missing_ok=True,
    )


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
