"""The models of the mechanisms under every app: none of them is a campaign, a person or an
organization. Two are tables (the IP-hash keys and the email outbox); the others are abstract,
the fields a petition's and a letter's signature or delivery share."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IpHashKey(models.Model):
    """The secret mixed into IP hashes for one period (a month by default).

    Hashes are only linkable while their period's key exists; the retention task deletes old keys,
    after which nobody (us included) can tell which address an old hash came from.
    """

    period = models.CharField(_("period"), max_length=16, unique=True)
    secret = models.CharField(max_length=128, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        # Created by accounts' migrations before this model moved here; the table kept its name.
        db_table = "accounts_iphashkey"
        ordering = ("-period",)
        verbose_name = _("IP hash key")
        verbose_name_plural = _("IP hash keys")

    def __str__(self) -> str:
        return self.period


class AbuseFlag(models.TextChoices):
    """Why a signature was held for a moderator. Signals flag, they never block on their own.

    Stored space-separated in a signature's `flags`; no code is a substring of another, so a filter
    on one code (`flags__contains`) never matches a different one.
    """

    DISPOSABLE_EMAIL = "disposable", _("Disposable email domain")
    IP_BURST = "ip_burst", _("Burst from one network address")
    DOMAIN_BURST = "domain_burst", _("Burst from one email domain")
    NEAR_DUPLICATE = "near_duplicate", _("Near-duplicate name")
    TOO_FAST = "too_fast", _("Form sent faster than a person types")
    NO_PROOF_OF_WORK = "no_pow", _("No proof of work (JavaScript off)")
    BAD_PROOF_OF_WORK = "bad_pow", _("Invalid proof of work")


class ModeratedSignature(models.Model):
    """What a petition's and a letter's individual signature share for abuse resistance,
    moderation and retention (letters.models.IndividualSignature reuses it)."""

    # Abuse signals (accounts.models.AbuseFlag codes, space-separated) that held this signature
    # for a moderator. A held signature is not counted or shown until a moderator approves it.
    flags = models.CharField(_("flags"), max_length=200, blank=True, editable=False)
    held = models.BooleanField(_("held for review"), default=False, editable=False)
    moderated_at = models.DateTimeField(_("moderated at"), null=True, blank=True, editable=False)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("moderated by"),
    )
    moderation_reason = models.CharField(
        _("moderation reason"), max_length=500, blank=True, editable=False
    )
    # When the last confirmation link went out (the outbox's after_send): a pending signature
    # whose last link expired long ago is deleted by retention.
    confirmation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when retention removed the signer's personal data; the row stays for counts and places.
    anonymized_at = models.DateTimeField(_("anonymized at"), null=True, blank=True, editable=False)
    # Set when the signer's confirmation link hard-bounced (mechanisms.bounces): no link is sent
    # to it again, whoever asks, and retention deletes it like any pending signature whose link
    # expired (each app's constraint: only a signature whose link went out can bounce).
    undeliverable_at = models.DateTimeField(
        _("undeliverable since"), null=True, blank=True, editable=False
    )

    if TYPE_CHECKING:
        # Declared by each concrete signature model (status with its own choices); the shared
        # mechanisms (confirmation, moderation) read and set them.
        status: str
        email: str
        language: str
        confirmed_at: datetime | None

    class Meta:
        abstract = True

    def __str__(self) -> str:
        # No name: this string is kept in the admin's audit log, which retention does not rewrite.
        return str(_("Signature %(id)s") % {"id": self.pk})


class DeliveryRecord(models.Model):
    """What every delivery to a target keeps: its state, and when and how often it was tried.
    Petitions and letters each add what they deliver and when."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        abstract = True
        ordering = ("-created_at",)


class OutboundEmail(models.Model):
    """One email Cosign owes someone: the outbox (mechanisms.outbox) every app writes to.

    Written in the transaction that makes the email due (a signature, an update, a delivery), so
    the database, not the broker, knows what is owed. The outbox's dispatcher claims and sends it
    within about a second, in a batch. The kind's builder renders it from `ref` (ids) when it is
    sent, so the text says what is true then.
    """

    # Not a column: what the kind's `prepare` loaded for the builder, for a whole batch in one
    # query (mechanisms.mail.EmailKind); None when nothing was prepared.
    prepared: dict[str, Any] | None = None

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        # Nothing to send any more (the signature was withdrawn), or the recipient's daily
        # budget of unsolicited email was spent.
        DROPPED = "dropped", _("Not sent")

    kind = models.CharField(_("kind"), max_length=64)
    # What the email is about (a signature, an update, a delivery), with the kind's notice
    # period when it has one: one email per kind, subject and recipient (and period).
    about = models.CharField(_("about"), max_length=100)
    # Cleared once sent: the outbox is not a list of who was mailed what.
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    # An HMAC of the canonical address, for the uniqueness that outlives the address.
    recipient_key = models.CharField(max_length=64, editable=False)
    language = models.CharField(_("language"), max_length=16)
    ref = models.JSONField(_("reference"), default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Not sent before this: the creation time, or when a transient failure's backoff ends.
    not_before = models.DateTimeField(_("not before"), default=timezone.now)
    # A worker's lease on a row it is sending; after it, the sweep may hand the row to another.
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # The id the mail provider gave the message (django-anymail's backends return one), which
    # its bounce and complaint webhooks name (mechanisms.bounces); blank over plain SMTP.
    provider_message_id = models.CharField(max_length=255, blank=True, editable=False)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "about", "recipient_key"], name="mechanisms_outbound_email_once"
            ),
        ]
        indexes = [
            # The sweep's question: what is owed and due?
            models.Index(
                fields=["not_before"],
                condition=models.Q(state__in=("pending", "sending")),
                name="mechanisms_outbound_due",
            ),
            models.Index(fields=["kind", "state"], name="mechanisms_outbound_kind"),
            models.Index(
                fields=["provider_message_id"],
                condition=~models.Q(provider_message_id=""),
                name="mechanisms_outbound_provider",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.state})"


class BounceEvent(models.Model):
    """What a mail provider's webhook or the bounce mailbox said about one email Cosign sent, and
    what Cosign did about it (mechanisms.bounces). Kept for staff, read-only; it holds no address
    (addresses in the mail server's diagnostic are blanked)."""

    class Type(models.TextChoices):
        HARD = "hard", _("Hard bounce")
        SOFT = "soft", _("Soft bounce")
        COMPLAINT = "complaint", _("Spam complaint")

    # "mailgun", "mandrill", "mailbox"
    source = models.CharField(_("source"), max_length=32)
    # The provider's event id, or the bounce's own Message-ID and recipient: a replay is one row.
    event_id = models.CharField(_("event id"), max_length=255)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    email = models.ForeignKey(
        OutboundEmail,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("email"),
    )
    email_kind = models.CharField(_("kind of email"), max_length=64)
    # The enhanced status code (RFC 3463), e.g. 5.1.1, when the report gave one.
    status = models.CharField(_("status code"), max_length=32, blank=True)
    description = models.TextField(_("what the mail server said"), blank=True)
    effect = models.CharField(_("effect"), max_length=300, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        ordering = ("-received_at",)
        verbose_name = _("bounce")
        verbose_name_plural = _("bounces")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "event_id"], name="mechanisms_bounce_event_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.pk}"


class EmailSuppression(models.Model):
    """An address that hard-bounced or complained: updates to it are dropped
    (mechanisms.bounces). Keyed like the outbox (an HMAC of the canonical address), so the table
    does not list who bounced; retention deletes a row after BOUNCE_SUPPRESSION_DAYS."""

    recipient_key = models.CharField(max_length=64, unique=True, editable=False)
    reason = models.CharField(_("reason"), max_length=16, choices=BounceEvent.Type.choices)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.pk}"


# Campaign images live beside the code that checks and stores them; Django finds the model here.
from mechanisms.images import Image  # noqa: E402, F401
