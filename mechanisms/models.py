"""The models of the mechanisms under every app: none of them is a campaign, a person or an
organization. Two are tables (the IP-hash keys and the email outbox); the others are abstract,
the fields a petition's and a letter's signature or delivery share."""

from __future__ import annotations

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
    # Set when retention removed the signer's personal data; the row stays for counts and places.
    anonymized_at = models.DateTimeField(_("anonymized at"), null=True, blank=True, editable=False)

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
