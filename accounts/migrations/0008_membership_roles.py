"""Organization roles: admin, editor, viewer, data steward (accounts.models.ROLE_CAPABILITIES).

A "member" could act for their organization (co-sign letters, approve co-signers as a lead):
they become editors, so nobody loses what they could do. New members start as viewers."""

from django.db import migrations, models


def members_to_editors(apps, schema_editor):
    Membership = apps.get_model("accounts", "Membership")
    Membership.objects.filter(role="member").update(role="editor")


def editors_to_members(apps, schema_editor):
    # Going back, every role that is not admin was a plain member's.
    Membership = apps.get_model("accounts", "Membership")
    Membership.objects.exclude(role="admin").update(role="member")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_iphashkey_moved"),
    ]

    operations = [
        migrations.AlterField(
            model_name="membership",
            name="role",
            field=models.CharField(
                choices=[
                    ("admin", "Administrator"),
                    ("editor", "Editor"),
                    ("viewer", "Viewer"),
                    ("steward", "Data steward"),
                ],
                default="viewer",
                max_length=20,
                verbose_name="role",
            ),
        ),
        migrations.RunPython(members_to_editors, editors_to_members),
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.CheckConstraint(
                condition=models.Q(("role__in", ["admin", "editor", "viewer", "steward"])),
                name="accounts_membership_role_known",
            ),
        ),
    ]
