"""Response thresholds: "at 10,000 signatures the council is asked to respond within 30 days".

A Threshold is a rule of one petition, for all its targets or for one of them; a
ThresholdRequest is that rule reached for one target, once (its unique row is what keeps the
target from being asked twice), with the due date, the answer link's key and digest, the answer
the target wrote and the Response staff published from it.

Imported by petitions.models, so Django registers these models with the petitions app.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# Longest answer a target may write on the answer page (Markdown).
ANSWER_MAX_LENGTH = 10_000
# Longest wait a threshold may set: a year.
DAYS_TO_RESPOND_MAX = 365


class Threshold(models.Model):
    """A count at which the petition's targets (or one of them) are asked to respond."""

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="thresholds"
    )
    # Empty: every target of the petition. A target's own threshold at the same count replaces
    # the petition's for that target (its own days); at another count it adds one.
    target = models.ForeignKey(
        "petitions.Target",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="thresholds",
        verbose_name=_("only for this target"),
        help_text=_("Leave empty for every target of the petition."),
    )
    count = models.PositiveIntegerField(_("signatures"))
    days_to_respond = models.PositiveSmallIntegerField(_("days to respond"), default=30)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ("petition", "count")
        verbose_name = _("response threshold")
        verbose_name_plural = _("response thresholds")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(count__gt=0), name="petitions_threshold_count_positive"
            ),
            models.CheckConstraint(
                condition=Q(days_to_respond__gt=0, days_to_respond__lte=DAYS_TO_RESPOND_MAX),
                name="petitions_threshold_days_in_range",
            ),
            models.UniqueConstraint(
                fields=("petition", "count"),
                condition=Q(target__isnull=True),
                name="petitions_threshold_once",
                violation_error_message=_("The petition already has a threshold at this count."),
            ),
            models.UniqueConstraint(
                fields=("petition", "target", "count"),
                condition=Q(target__isnull=False),
                name="petitions_threshold_once_per_target",
                violation_error_message=_("This target already has a threshold at this count."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id}: {self.count}"


class ThresholdRequest(models.Model):
    """One target asked to respond because the petition reached one count: made once, in the
    counter's transaction, with the email that asks them."""

    class Notice(models.TextChoices):
        ASKED = "asked", _("Emailed")
        NO_EMAIL = "no_email", _("Not emailed: the target has no delivery email")
        UNCONFIRMED = "unconfirmed", _("Not emailed: the target awaits staff confirmation")

    class Status(models.TextChoices):
        AWAITING = "awaiting", _("Awaiting an answer")
        ANSWERED = "answered", _("Answered, to publish")
        PUBLISHED = "published", _("Published")

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="threshold_requests"
    )
    target = models.ForeignKey(
        "petitions.Target", on_delete=models.PROTECT, related_name="threshold_requests"
    )
    # The rule it came from; the count and days are copied, so editing the rule later changes
    # nothing already asked.
    threshold = models.ForeignKey(
        Threshold, on_delete=models.SET_NULL, null=True, blank=True, related_name="requests"
    )
    count = models.PositiveIntegerField(_("threshold"))
    days_to_respond = models.PositiveSmallIntegerField(_("days to respond"))
    reached_at = models.DateTimeField(_("reached at"))
    signatures_at_reach = models.PositiveIntegerField(_("signatures when reached"))
    notice = models.CharField(_("notice"), max_length=20, choices=Notice.choices)
    # When the email was owed: the due date runs from here.
    asked_at = models.DateTimeField(_("asked at"), null=True, blank=True)
    due_at = models.DateTimeField(_("answer due"), null=True, blank=True)
    # The answer link reads `<link_key>_<secret>`: the key finds the row, the SHA-256 of the
    # whole token must equal `token_digest`. The secret is never stored (mechanisms.link_keys).
    link_key = models.CharField(max_length=16, blank=True, editable=False)
    token_digest = models.CharField(max_length=64, blank=True, editable=False)
    link_expires_at = models.DateTimeField(_("answer link works until"), null=True, blank=True)
    answer = models.TextField(
        _("answer"),
        max_length=ANSWER_MAX_LENGTH,
        blank=True,
        help_text=_("Markdown, as the target wrote it. Published as the petition's response."),
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer_changed_at = models.DateTimeField(_("answer last changed"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.AWAITING
    )
    response = models.OneToOneField(
        "petitions.Response",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="threshold_request",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        ordering = ("petition", "count", "target")
        verbose_name = _("threshold request")
        verbose_name_plural = _("threshold requests")
        constraints: ClassVar = [
            # What makes a target asked once per count, however many counters run.
            models.UniqueConstraint(
                fields=("petition", "target", "count"), name="petitions_threshold_request_once"
            ),
            models.UniqueConstraint(
                fields=("link_key",),
                condition=~Q(link_key=""),
                name="petitions_threshold_request_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(asked_at__isnull=True, due_at__isnull=True)
                | Q(asked_at__isnull=False, due_at__isnull=False),
                name="petitions_threshold_request_asked_has_due",
            ),
            models.CheckConstraint(
                condition=~Q(notice="asked") | (Q(asked_at__isnull=False) & ~Q(token_digest="")),
                name="petitions_threshold_request_asked_has_link",
            ),
            models.CheckConstraint(
                condition=Q(status="awaiting") | (Q(answered_at__isnull=False) & ~Q(answer="")),
                name="petitions_threshold_request_answered_has_answer",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="petitions_threshold_request_published_has_date",
            ),
        ]
        indexes: ClassVar = [
            # Staff's queue of answers to publish.
            models.Index(
                fields=("answered_at",),
                condition=Q(status="answered"),
                name="petitions_threshold_answered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} -> {self.target_id} at {self.count}"
