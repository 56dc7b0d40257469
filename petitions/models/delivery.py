"""Who petitions are delivered to, where signers live, and each delivery and response.

Imported by petitions.models, so Django registers these models with the petitions app.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from mechanisms.models import DeliveryRecord
from mechanisms.web_urls import WebURLField


class Target(models.Model):
    """A decision maker a campaign addresses, with the jurisdiction whose people they answer to."""

    class Level(models.TextChoices):
        LOCAL = "local", _("Local")
        STATE = "state", _("State or region")
        NATIONAL = "national", _("National")
        COMPANY = "company", _("Company")
        INTERNATIONAL = "international", _("International")

    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(
        _("title or office"), max_length=200, help_text=_("e.g. Mayor of Oakland")
    )
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    country = CountryField(_("country"), blank=True)
    region = models.CharField(
        _("region"), max_length=20, blank=True, help_text=_("e.g. CA for California")
    )
    locality = models.CharField(_("locality"), max_length=100, blank=True)
    email = models.EmailField(_("delivery email"), blank=True)
    contact_url = WebURLField(_("public contact page"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    # An official an organization's editor proposed for their draft: not in the directory, and
    # not delivered to, until staff confirm it.
    proposed_by = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    awaiting_confirmation = models.BooleanField(_("awaiting staff confirmation"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ("level", "country", "region", "locality", "title")
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints: ClassVar = [
            # A target's level says which signers are its constituents; it needs that place.
            models.CheckConstraint(
                condition=~Q(level="local") | (~Q(country="") & ~Q(region="") & ~Q(locality="")),
                name="petitions_target_local_has_place",
            ),
            models.CheckConstraint(
                condition=~Q(level="state") | (~Q(country="") & ~Q(region="")),
                name="petitions_target_state_has_region",
            ),
            models.CheckConstraint(
                condition=~Q(level="national") | ~Q(country=""),
                name="petitions_target_national_has_country",
            ),
        ]

    def __str__(self) -> str:
        if self.name and self.name != self.title:
            return f"{self.title} ({self.name})"
        return self.title


class PostalArea(models.Model):
    """A postal code's place, for countries other than the US (whose ZIP codes ship with the
    zipcodes package); loaded with `manage.py import_postal_codes`."""

    country = CountryField(_("country"))
    postal_code = models.CharField(_("postal code"), max_length=20)
    region = models.CharField(_("region"), max_length=20)
    locality = models.CharField(_("locality"), max_length=100)

    class Meta:
        verbose_name = _("postal area")
        verbose_name_plural = _("postal areas")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("country", "postal_code"), name="petitions_postal_area_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country.code} {self.postal_code}: {self.locality}, {self.region}"


class Delivery(DeliveryRecord):
    """One email to one target for one period: the unique row is what keeps two workers, or a
    task run twice, from sending it twice; the claim (status sending) keeps them from racing."""

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="deliveries"
    )
    target = models.ForeignKey(Target, on_delete=models.PROTECT, related_name="deliveries")
    period = models.CharField(
        _("period"), max_length=40, help_text=_("e.g. 2026-11-25, 2026-W48, goal-1000, close")
    )
    total_count = models.PositiveIntegerField(_("constituents in total"), default=0)
    new_count = models.PositiveIntegerField(_("since the last delivery"), default=0)

    class Meta(DeliveryRecord.Meta):
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("petition", "target", "period"), name="petitions_delivery_once"
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="petitions_delivery_sent_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} -> {self.target_id} ({self.period})"


class Response(models.Model):
    """What a target answered, recorded by staff; published on the petition and emailed to
    signers who asked for updates."""

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="responses"
    )
    target = models.ForeignKey(Target, on_delete=models.PROTECT, related_name="responses")
    text = models.TextField(_("response"), help_text=_("Markdown. What they said, quoted."))
    received_at = models.DateField(_("received on"), default=timezone.localdate)
    # Publishing goes through an update, so signers get it the way they get any update.
    update = models.OneToOneField(
        "petitions.PetitionUpdate",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="response",
    )

    class Meta:
        ordering = ("-received_at",)
        verbose_name = _("response")
        verbose_name_plural = _("responses")

    def __str__(self) -> str:
        return f"{self.target} on {self.received_at}"
