"""Account and organization addresses in the IDNA-aware form (issue 14): `voter@bücher.example`
and `voter@xn--bcher-kva.example` are one mailbox, so one account. Collisions are flagged in the
printed summary and left for staff, never merged."""

from django.db import migrations

from mechanisms import canonical_emails


def refresh(apps, schema_editor):
    lines = []
    for summary in (
        canonical_emails.users_email_refresh(model=apps.get_model("accounts", "User"), write=str),
        canonical_emails.organizations_email_refresh(
            model=apps.get_model("accounts", "Organization"), write=str
        ),
    ):
        if summary.rewritten or summary.flagged:
            lines += summary.lines()
    if lines:
        print("\n" + "\n".join(lines))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_website_whatwg")]

    operations = [migrations.RunPython(refresh, migrations.RunPython.noop, elidable=True)]
