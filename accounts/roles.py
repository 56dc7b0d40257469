"""Staff roles: permission groups a superuser gives to staff accounts.

A migration (accounts 0004) creates the groups from this table; `roles_apply` can set them
again, with live or historical models, after a new permission is added here. Permissions are
named as strings ("app_label.codename"), so accounts needs no import from the apps it names.

Neither role holds a permission of `auth` (users, groups, permissions) or of anything that
configures the platform: those stay with superusers.
"""

from __future__ import annotations

from typing import Any

MODERATOR = "Moderator"
CAMPAIGN_EDITOR = "Campaign editor"


def _crud(app_label: str, model: str, *actions: str) -> tuple[str, ...]:
    return tuple(f"{app_label}.{action}_{model}" for action in actions)


ROLES: dict[str, tuple[str, ...]] = {
    # Signatures, organizations and co-signatures: approve, reject, mark as spam, and read the
    # audit log of what other moderators did. Petitions are visible (read-only) so a moderator
    # can open the one whose signatures they export.
    MODERATOR: (
        *_crud("petitions", "signature", "view", "change"),
        *_crud("letters", "individualsignature", "view", "change"),
        *_crud("accounts", "organization", "view", "change"),
        *_crud("letters", "organizationsignature", "view", "change"),
        *_crud("letters", "statement", "view", "change"),
        "petitions.view_petition",
        "petitions.export_signatures",
        "admin.view_logentry",
        # What a bounce did to a signature (made it undeliverable) is a moderator's question.
        "mechanisms.view_bounceevent",
    ),
    # Campaigns and what is said around them. Organizations are visible (read-only) because a
    # petition's sponsors and a letter's lead organizations are picked from them.
    CAMPAIGN_EDITOR: (
        *_crud("petitions", "petition", "add", "change", "view"),
        *_crud("petitions", "petitionupdate", "add", "change", "view"),
        *_crud("petitions", "target", "add", "change", "view"),
        *_crud("petitions", "topic", "add", "change", "view"),
        *_crud("petitions", "response", "add", "change", "view"),
        *_crud("letters", "openletter", "add", "change", "view"),
        *_crud("letters", "letterupdate", "add", "change", "view"),
        "petitions.view_delivery",
        "letters.view_letterdelivery",
        "accounts.view_organization",
        # The campaign tools: response thresholds and the answers staff publish, paper sheets
        # typed in, and why a delivery bounced. (Sign-form questions follow the petition's
        # own change permission, in its page's inline.)
        *_crud("petitions", "threshold", "add", "change", "view"),
        *_crud("petitions", "thresholdrequest", "change", "view"),
        *_crud("petitions", "paperbatch", "add", "change", "view"),
        *_crud("petitions", "papersignature", "add", "change", "view"),
        "mechanisms.view_bounceevent",
    ),
}


class UnknownPermission(LookupError):
    """A role names a permission that does not exist: a typo, or a model renamed."""


def roles_apply(*, group_model: Any, permission_model: Any, missing_ok: bool = False) -> None:
    """Create the groups and give each exactly its role's permissions (extra ones are removed).

    Takes the Group and Permission models as arguments so a migration can pass its historical
    ones; permissions must exist already (`create_permissions`). `missing_ok` is for the
    migration that first made the roles: it runs before models added since exist, and grants
    what exists then; a later migration (accounts 0012) applies the whole table strictly.
    """
    for name, perms in ROLES.items():
        wanted = {(app, codename) for app, codename in (perm.split(".", 1) for perm in perms)}
        found = {
            (app_label, codename): pk
            for pk, app_label, codename in permission_model.objects.filter(
                content_type__app_label__in={app for app, _ in wanted},
                codename__in={codename for _, codename in wanted},
            ).values_list("pk", "content_type__app_label", "codename")
        }
        missing = wanted - found.keys()
        if missing_ok:
            wanted -= missing
        elif missing:
            raise UnknownPermission(
                f"Role {name!r} names permissions that do not exist: "
                + ", ".join(sorted(".".join(perm) for perm in missing))
            )
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.set([found[perm] for perm in wanted])


def roles_migrate(apps: Any, schema_editor: Any, *, missing_ok: bool = False) -> None:
    """A migration's step that applies the roles with its historical models. Permissions are
    normally created after all migrations ran (post_migrate); on a fresh database they would
    not exist yet here, so they are created now for every app."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias)
    roles_apply(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
        missing_ok=missing_ok,
    )
