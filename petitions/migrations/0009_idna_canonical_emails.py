"""Signatures' canonical emails in the IDNA-aware form (issue 14): `voter@bücher.example` and
`voter@xn--bcher-kva.example` were two counted signatures of one mailbox. Such pairs are merged
(the confirmed, else the earlier, is kept; a counted one removed leaves its petition's count),
and a summary is printed."""

from django.db import migrations

from mechanisms import canonical_emails


def refresh(apps, schema_editor):
    summary = canonical_emails.signatures_canonical_refresh(
        model=apps.get_model("petitions", "Signature"),
        scope="petition",
        write=str,
        on_removed=canonical_emails.petition_count_release(
            petition_model=apps.get_model("petitions", "Petition")
        ),
    )
    if summary.rewritten or summary.merged:
        print("\n" + "\n".join(summary.lines()))


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0008_contact_url_whatwg"),
        ("accounts", "0006_idna_emails"),
    ]

    operations = [migrations.RunPython(refresh, migrations.RunPython.noop, elidable=True)]
