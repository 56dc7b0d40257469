"""Signatures collected on paper: a batch of sheets typed in by staff or a sponsor's editors,
and its rows. A batch is typed row by row (each row saved as it is typed) and counted once it
is finished; the sheet's scan is never stored, only what was typed from it."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from accounts.models import Organization
from petitions.models.campaigns import Petition


class PaperBatch(models.Model):
    """Sheets typed in together: who typed them, when, and for which petition."""

    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="paper_batches")
    # The sponsor whose editors typed it; staff's own batches have none.
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered for"),
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    sheet_reference = models.CharField(
        _("sheet reference"),
        max_length=100,
        blank=True,
        help_text=_("Where the sheets are kept or came from, e.g. 'Market stall, 12 May, box 3'."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    # Set when the batch is finished: only then do its rows join the count.
    counted_at = models.DateTimeField(_("counted at"), null=True, blank=True, editable=False)
    # Set by the batched counter once a finished batch is in the paper count. Finishing does not
    # count at once, so a sponsor's editor who finishes a one-line batch cannot read at that
    # moment whether the line changed the count (petitions.services.counting).
    tallied = models.BooleanField(_("in the count"), default=False, editable=False)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("paper batch")
        verbose_name_plural = _("paper batches")
        indexes: ClassVar = [
            # The counter looks for finished batches not yet in the count every few seconds.
            models.Index(
                fields=("petition",),
                condition=Q(counted_at__isnull=False, tallied=False),
                name="petitions_paper_to_tally",
            ),
        ]

    def __str__(self) -> str:
        label = self.sheet_reference or _("Paper batch")
        return f"{label} #{self.pk}"


class PaperSignature(models.Model):
    """One line of a paper sheet. Paper signers gave no address to be written to and no consent
    for it: they are never emailed, even when they wrote an email down (it is kept only to
    count them once when they also signed online)."""

    batch = models.ForeignKey(PaperBatch, on_delete=models.CASCADE, related_name="rows")
    # The batch's petition, here too, for the counts.
    petition = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="paper_signatures"
    )
    sheet = models.PositiveSmallIntegerField(_("sheet"), default=1)
    line = models.PositiveSmallIntegerField(_("line"))
    name = models.CharField(_("name"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = CountryField(_("country"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    canonical_email = models.CharField(
        _("canonical email"), max_length=254, blank=True, editable=False
    )
    # Resolved from the postal code when the row is saved, as an online signer's on confirming.
    region = models.CharField(_("region"), max_length=20, blank=True, editable=False)
    locality = models.CharField(_("locality"), max_length=100, blank=True, editable=False)
    # The same person is counted elsewhere (signed online, confirmed, or on an earlier counted
    # paper line, by canonical email): recorded, not counted. Kept by the counter and the
    # recount (petitions.services.counting.paper_counts_update); shown to staff only.
    duplicate = models.BooleanField(_("counted elsewhere"), default=False, editable=False)
    created_at = models.DateTimeField(_("typed at"), default=timezone.now, editable=False)
    anonymized_at = models.DateTimeField(_("anonymized at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ("batch", "sheet", "line")
        verbose_name = _("paper signature")
        verbose_name_plural = _("paper signatures")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("batch", "sheet", "line"), name="petitions_paper_one_per_line"
            ),
            # One person once per batch, when an email says who they are. Not per petition: a
            # refusal would tell one sponsor what is on another's sheets. Across batches the
            # counter counts a person once (the earliest counted line).
            models.UniqueConstraint(
                fields=("batch", "canonical_email"),
                condition=Q(anonymized_at__isnull=True) & ~Q(canonical_email=""),
                name="petitions_paper_one_per_person_per_batch",
            ),
            models.CheckConstraint(condition=Q(line__gt=0), name="petitions_paper_line_positive"),
            models.CheckConstraint(condition=Q(sheet__gt=0), name="petitions_paper_sheet_positive"),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=("petition", "canonical_email"),
                condition=~Q(canonical_email=""),
                name="petitions_paper_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id} {self.sheet}/{self.line}"
