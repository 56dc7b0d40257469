"""Every email goes through the outbox (mechanisms.outbox): what the old per-model protocols still
owed (first confirmations never sent, update emails never sent, deliveries not yet sent) becomes
outbox rows, then the old bookkeeping goes."""

from django.db import migrations
from django.utils import timezone

from mechanisms.outbox import recipient_key


def _owe(OutboundEmail, *, kind, about, to, language, ref, now):
    OutboundEmail.objects.get_or_create(
        kind=kind,
        about=about,
        recipient_key=recipient_key(to),
        defaults={"recipient": to, "language": language, "ref": ref, "not_before": now},
    )


def owed_into_outbox(apps, schema_editor):
    OutboundEmail = apps.get_model("mechanisms", "OutboundEmail")
    Signature = apps.get_model("petitions", "Signature")
    UpdateEmail = apps.get_model("petitions", "UpdateEmail")
    Delivery = apps.get_model("petitions", "Delivery")
    IndividualSignature = apps.get_model("letters", "IndividualSignature")
    LetterDelivery = apps.get_model("letters", "LetterDelivery")
    now = timezone.now()
    for kind, model in (("petition_signer", Signature), ("letter_signer", IndividualSignature)):
        unsent = model.objects.filter(
            status="pending", confirmation_sent_at__isnull=True, anonymized_at__isnull=True
        ).values_list("pk", "email", "language")
        for pk, email, language in unsent.iterator():
            _owe(
                OutboundEmail,
                kind=kind,
                about=f"{pk}@migrated",
                to=email,
                language=language,
                ref={"signature": pk},
                now=now,
            )
    unsent_updates = UpdateEmail.objects.filter(
        sent_at__isnull=True, failed_at__isnull=True
    ).values_list("update_id", "signature_id", "signature__email", "signature__language")
    for update_id, signature_id, email, language in unsent_updates.iterator():
        _owe(
            OutboundEmail,
            kind="petition_update",
            about=str(update_id),
            to=email,
            language=language,
            ref={"update": update_id, "signature": signature_id},
            now=now,
        )
    for kind, model, language in (
        ("petition_delivery", Delivery, "petition__language"),
        ("letter_delivery", LetterDelivery, None),
    ):
        waiting = model.objects.filter(status__in=("pending", "sending")).select_related("target")
        for delivery in waiting.iterator():
            if delivery.target.email:
                _owe(
                    OutboundEmail,
                    kind=kind,
                    about=str(delivery.pk),
                    to=delivery.target.email,
                    language=delivery.petition.language if language else "en",
                    ref={"delivery": delivery.pk},
                    now=now,
                )


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0009_idna_canonical_emails"),
        ("letters", "0004_idna_canonical_emails"),
        ("mechanisms", "0002_outbox"),
    ]

    operations = [
        migrations.RunPython(owed_into_outbox, migrations.RunPython.noop),
        # UpdateEmail goes whole (DeleteModel below). Removing its fields first made SQLite, which
        # rebuilds a table to drop a column, rebuild it with its unique constraint on the field
        # just removed, so `make run` failed to migrate; on PostgreSQL either order did the same.
        migrations.RemoveIndex(
            model_name="signature",
            name="petitions_sig_unsent",
        ),
        migrations.RemoveField(
            model_name="signature",
            name="confirmation_attempts",
        ),
        migrations.RemoveField(
            model_name="signature",
            name="confirmation_claimed_at",
        ),
        migrations.RemoveField(
            model_name="signature",
            name="notice_at",
        ),
        migrations.DeleteModel(
            name="UpdateEmail",
        ),
    ]
