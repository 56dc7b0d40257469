"""Individual letter signatures' canonical emails in the IDNA-aware form (issue 14); pairs that
turn out to be one mailbox's are merged (the confirmed, else the earlier, is kept), with a
printed summary."""

from django.db import migrations

from mechanisms import canonical_emails


def refresh(apps, schema_editor):
    summary = canonical_emails.signatures_canonical_refresh(
        model=apps.get_model("letters", "IndividualSignature"), scope="letter", write=str
    )
    if summary.rewritten or summary.merged:
        print("\n" + "\n".join(summary.lines()))


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0003_moderation_and_retention"),
        ("accounts", "0006_idna_emails"),
    ]

    operations = [migrations.RunPython(refresh, migrations.RunPython.noop, elidable=True)]
