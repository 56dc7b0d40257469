from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from modeltranslation.manager import MultilingualManager

from accounts.models import Organization
from mechanisms.images import image_alt_constraint
from mechanisms.models import ModeratedSignature
from petitions.drafting.models import Review, ReviewedCampaign

# When no fixed goal is set, the goal steps up to the next of these as the count reaches it, then
# keeps doubling the last one.
GOAL_STEPS = (100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000)


def goal_steps() -> Iterator[int]:
    """100, 250, 500, 1,000, ... 100,000, then doubling for ever."""
    yield from GOAL_STEPS
    yield from (GOAL_STEPS[-1] * 2**n for n in itertools.count(1))


class Topic(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    # modeltranslation (translation.py) makes the default manager its own.
    objects: ClassVar[MultilingualManager[Topic]]

    class Meta:
        ordering = ("position", "name")
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self) -> str:
        return self.name


class DeliverySchedule(models.TextChoices):
    NONE = "none", _("No deliveries")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MILESTONE = "milestone", _("At each milestone")
    CLOSE = "close", _("When it closes")


class Petition(ReviewedCampaign):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        # Off the catalog, still at its address with its final count and outcome.
        ARCHIVED = "archived", _("Archived")

    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(
        _("summary"), max_length=600, help_text=_("One paragraph: the pitch shown in lists.")
    )
    body = models.TextField(
        _("body"), blank=True, help_text=_("Markdown. Raw HTML and scripts are removed.")
    )
    demand = models.CharField(
        _("demand"),
        max_length=300,
        blank=True,
        help_text=_("What the petition asks for, in one sentence: 'End the Ring partnership.'"),
    )
    addressed_to = models.CharField(
        _("addressed to"),
        max_length=300,
        blank=True,
        help_text=_("Whom the petition asks to act, e.g. 'The Mayor and City Council of Oakland'."),
    )
    topic = models.ForeignKey(
        Topic, on_delete=models.PROTECT, related_name="petitions", null=True, blank=True
    )
    sponsors = models.ManyToManyField(
        Organization, related_name="sponsored_petitions", blank=True, verbose_name=_("sponsors")
    )
    goal = models.PositiveIntegerField(
        _("fixed goal"),
        null=True,
        blank=True,
        help_text=_("Leave empty for a goal that steps up as signatures arrive."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    opens_at = models.DateTimeField(
        _("opens at"),
        null=True,
        blank=True,
        help_text=_("A draft with this date opens by itself then. Leave empty to open by hand."),
    )
    closes_at = models.DateTimeField(
        _("closes at"), null=True, blank=True, help_text=_("The petition closes by itself then.")
    )
    outcome = models.TextField(
        _("outcome"),
        blank=True,
        help_text=_("What came of the campaign, shown once it is closed. Markdown."),
    )
    # What the sign form asks for.
    postal_code_required = models.BooleanField(_("postal code required"), default=False)
    countries = CountryField(
        _("countries offered"),
        multiple=True,
        blank=True,
        help_text=_("Leave empty to offer every country."),
    )
    ask_comment = models.BooleanField(
        _("ask for a comment"),
        default=False,
        help_text=_("An optional 'why I sign', seen by staff and delivered with the signatures."),
    )
    targets = models.ManyToManyField(
        "petitions.Target",
        related_name="petitions",
        blank=True,
        verbose_name=_("targets"),
        help_text=_("Who receives the signatures; each gets those of their own constituents."),
    )
    delivery_schedule = models.CharField(
        _("delivery schedule"),
        max_length=20,
        choices=DeliverySchedule.choices,
        default=DeliverySchedule.NONE,
    )
    offer_sponsor_opt_in = models.BooleanField(
        _("offer to hear from sponsors"),
        default=False,
        help_text=_("Signers may tick each sponsoring organization they want to hear from."),
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    # The sign form's own questions as published (petitions.services.questions): read with the
    # petition in one query, so a petition without questions costs its signers nothing more.
    question_set = models.ForeignKey(
        "petitions.QuestionSet",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("sign-form questions"),
    )
    # A picture for the page and its link previews (mechanisms.images), with its text for
    # readers who cannot see it, in every language.
    image = models.ForeignKey(
        "mechanisms.Image",
        on_delete=models.PROTECT,
        related_name="petitions",
        null=True,
        blank=True,
        verbose_name=_("image"),
    )
    image_alt = models.CharField(
        _("image description"),
        max_length=300,
        blank=True,
        help_text=_("What the image shows, for readers who cannot see it. Required with an image."),
    )
    # Kept by the batched counter (petitions.services.petition_counts_update), never per request,
    # so a surge of signers never contends for this row.
    signature_count = models.PositiveIntegerField(_("confirmed signatures"), default=0)
    # Signatures on paper in finished batches, less those of people who also signed online;
    # kept by petitions.services.paper (the batch's finish, the counter and the recount).
    paper_count = models.PositiveIntegerField(_("paper signatures"), default=0, editable=False)
    # When it stopped taking signatures (by its date or by staff); signers' personal data is
    # anonymized SIGNATURE_RETENTION_DAYS after this.
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # modeltranslation (translation.py) makes the default manager its own.
    objects: ClassVar[MultilingualManager[Petition]]

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")
        # Signers' emails and postal codes leave the platform in an export: a role of its own.
        permissions: ClassVar = [
            ("export_signatures", _("Can download the signatures of a petition as CSV")),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(closes_at__gt=models.F("opens_at")),
                name="petitions_petition_closes_after_opening",
            ),
            models.CheckConstraint(
                condition=Q(goal__isnull=True) | Q(goal__gt=0),
                name="petitions_petition_goal_positive",
            ),
            # Staff review what organizations write; what staff write needs no review.
            models.CheckConstraint(
                condition=Q(review="") | Q(organization__isnull=False),
                name="petitions_petition_review_has_organization",
            ),
            models.CheckConstraint(
                condition=~Q(review="submitted") | Q(submitted_at__isnull=False),
                name="petitions_petition_submitted_has_date",
            ),
            image_alt_constraint(prefix="petitions_petition"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("petitions:detail", kwargs={"slug": self.slug})

    @property
    def ended(self) -> bool:
        """Closed or archived: whether the retention clock (closed_at) runs."""
        return self.status in (self.Status.CLOSED, self.Status.ARCHIVED)

    def is_accepting_signatures(self, *, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            self.status == self.Status.OPEN
            and (self.opens_at is None or self.opens_at <= now)
            and (self.closes_at is None or now < self.closes_at)
        )

    @property
    def has_ended(self) -> bool:
        return self.status in (self.Status.CLOSED, self.Status.ARCHIVED) or (
            self.closes_at is not None and self.closes_at <= timezone.now()
        )

    @property
    def total_count(self) -> int:
        """Every signature the petition counts: what its goals, thresholds and share cards show.
        Online confirmed signatures and counted paper ones."""
        return self.signature_count + self.paper_count

    @property
    def current_goal(self) -> int:
        if self.goal:
            return self.goal
        return next(step for step in goal_steps() if self.total_count < step)

    def next_goal_after(self, goal: int) -> int | None:
        """The step after a reached goal; None for a fixed goal, which has no next one."""
        if self.goal:
            return None
        return next(step for step in goal_steps() if step > goal)

    def goals_reached(self, count: int | None = None) -> list[int]:
        """The goals a count has reached, smallest first: the fixed goal, or the steps."""
        count = self.total_count if count is None else count
        if self.goal:
            return [self.goal] if count >= self.goal else []
        return list(itertools.takewhile(lambda step: step <= count, goal_steps()))

    @property
    def progress_percent(self) -> int:
        return min(100, self.total_count * 100 // self.current_goal)


class Signature(ModeratedSignature):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting email confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Rejected")
        SPAM = "spam", _("Spam")

    class Display(models.TextChoices):
        FULL = "full", _("My full name")
        SHORT = "short", _("My first name and last initial")
        WITHHELD = "withheld", _("Don't show my name")

    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="signatures")
    name = models.CharField(_("name"), max_length=200)
    # The address as typed, to write to; canonical_email decides whether two are one signer.
    email = models.EmailField(_("email"))
    canonical_email = models.CharField(_("canonical email"), max_length=254, editable=False)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = CountryField(_("country"), blank=True)
    display = models.CharField(
        _("show my name as"), max_length=10, choices=Display.choices, default=Display.SHORT
    )
    consent_updates = models.BooleanField(_("consents to updates"), default=False)
    comment = models.TextField(_("comment"), max_length=1000, blank=True)
    # The sponsoring organization whose share link the signer came through (the petition's page
    # at /from/<organization>/): the same for everyone who used that link, never a cookie, and
    # counted on that organization's dashboard. Kept when the signer's data is removed.
    source = models.ForeignKey(
        Organization,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("came through the link of"),
    )
    # Where the signer lives, resolved from country and postal code when they confirm; an
    # unknown postal code is kept and counted for national and company targets only.
    region = models.CharField(_("region"), max_length=20, blank=True)
    locality = models.CharField(_("locality"), max_length=100, blank=True)
    postal_code_known = models.BooleanField(_("postal code found"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    # A keyed hash of the client address (mechanisms.network.ip_hash); the address is never kept.
    ip_hash = models.CharField(_("IP hash"), max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("signed at"), default=timezone.now, editable=False)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    # Whether the batched counter has added this signature to petition.signature_count.
    counted = models.BooleanField(default=False, editable=False)
    # The petition's own questions as this signer saw them, and their answers by question key
    # (petitions.services.questions): personal data, emptied by retention like the comment.
    question_set = models.ForeignKey(
        "petitions.QuestionSet",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("questions answered"),
    )
    # The database's default too: rows written by SQL of their own (bulk loads) answer nothing.
    answers = models.JSONField(
        _("answers"),
        default=dict,
        db_default=models.Value({}, output_field=models.JSONField()),
        blank=True,
    )

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        constraints: ClassVar = [
            # Anonymized rows have no email left to be unique about.
            models.UniqueConstraint(
                fields=("petition", "canonical_email"),
                condition=Q(anonymized_at__isnull=True),
                name="petitions_signature_one_per_person",
            ),
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(confirmed_at__isnull=False),
                name="petitions_signature_confirmed_has_date",
            ),
            # Only a link that went out can bounce (mechanisms.bounces); and so retention, which
            # deletes pending signatures by their last link's time, deletes undeliverable ones.
            models.CheckConstraint(
                condition=Q(undeliverable_at__isnull=True) | Q(confirmation_sent_at__isnull=False),
                name="petitions_signature_undeliverable_was_sent",
            ),
            # Whoever moves a counted signature out of "confirmed", or holds it for review, must
            # take it off the count too.
            models.CheckConstraint(
                condition=Q(counted=False) | Q(status="confirmed", held=False),
                name="petitions_signature_counted_is_confirmed",
            ),
            # Answers mean something only beside the questions they answer.
            models.CheckConstraint(
                condition=Q(answers={}) | Q(question_set__isnull=False),
                name="petitions_signature_answers_have_questions",
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=("petition",),
                condition=Q(status="confirmed", counted=False, held=False),
                name="petitions_sig_uncounted",
            ),
            # The moderators' queue of held signatures.
            models.Index(
                fields=("petition", "created_at"),
                condition=Q(held=True),
                name="petitions_sig_held",
            ),
            models.Index(
                fields=("petition", "status", "-confirmed_at"), name="petitions_sig_recent"
            ),
            # Routing compares places ignoring case (iexact is UPPER() = UPPER() in PostgreSQL):
            # "signatures from your area" and each target's constituents read this index.
            models.Index(
                F("petition"),
                F("country"),
                Upper("region"),
                Upper("locality"),
                condition=Q(status="confirmed"),
                name="petitions_sig_place",
            ),
        ]

    @property
    def public_name(self) -> str:
        if self.display == self.Display.FULL:
            return self.name
        if self.display == self.Display.SHORT:
            parts = self.name.split()
            if len(parts) > 1:
                return f"{parts[0]} {parts[-1][0]}."
            # One word may be a whole name (山田太郎, "Doe,Jane"): show no more than its initial.
            return f"{parts[0][0]}." if parts else ""
        return str(_("Name withheld"))


class FlaggedSignature(Signature):
    """The moderators' queue in the admin: the same rows, only those held for review."""

    class Meta:
        proxy = True
        verbose_name = _("flagged signature")
        verbose_name_plural = _("flagged signatures")


class ConsentWording(models.Model):
    """The exact words a signer agreed to, in their language: one row per distinct text, so
    every opt-in points at what its signer saw even after the form's wording changes."""

    text = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=10)
    # sha256 of language and text: the row's identity.
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("first used at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("consent wording")
        verbose_name_plural = _("consent wordings")

    def __str__(self) -> str:
        return self.text


class SponsorOptIn(models.Model):
    """A signer's permission for one sponsoring organization to contact them."""

    signature = models.ForeignKey(
        Signature, on_delete=models.CASCADE, related_name="sponsor_opt_ins"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="opt_ins")
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    # What the signer saw when they ticked the box; empty for opt-ins older than the record.
    wording = models.ForeignKey(
        ConsentWording,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("consent wording"),
    )
    # When the organization last downloaded this supporter (a data steward's export): shown to
    # the signer on their "your signatures" page.
    exported_at = models.DateTimeField(_("last exported at"), null=True, blank=True)

    class Meta:
        verbose_name = _("opt-in to a sponsor")
        verbose_name_plural = _("opt-ins to sponsors")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("signature", "organization"), name="petitions_optin_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signature_id} -> {self.organization_id}"


class PetitionUpdate(models.Model):
    """News about a campaign: shown on its page, and emailed to signers who asked for updates."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="updates")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), help_text=_("Markdown. Raw HTML and scripts are removed."))
    email_signers = models.BooleanField(
        _("email signers"),
        default=True,
        help_text=_("Email it to confirmed signers who asked for updates, when it is published."),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    # An update an organization's editor wrote (staff's own have none): it waits for staff's
    # review unless staff trust the organization.
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    review = models.CharField(
        _("review"), max_length=20, choices=Review.choices, blank=True, default=""
    )
    review_reason = models.TextField(_("reason given by staff"), blank=True)
    # Taken off the campaign's page by staff; emails already sent stay sent.
    unpublished_at = models.DateTimeField(_("unpublished at"), null=True, blank=True)
    # Claimed by the one task that splits the mailing into batches.
    mailing_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # modeltranslation (translation.py) makes the default manager its own.
    objects: ClassVar[MultilingualManager[PetitionUpdate]]

    class Meta:
        ordering = ("-published_at", "-created_at")
        verbose_name = _("update")
        verbose_name_plural = _("updates")

    def __str__(self) -> str:
        return self.title


class PetitionMilestone(models.Model):
    """A goal the count reached. The row's uniqueness is what lets sponsors hear of it once."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="milestones")
    goal = models.PositiveIntegerField(_("goal"))
    reached_at = models.DateTimeField(_("reached at"), default=timezone.now)
    notified_at = models.DateTimeField(_("sponsors notified at"), null=True, blank=True)

    class Meta:
        ordering = ("petition", "goal")
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("petition", "goal"), name="petitions_milestone_once"),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id}: {self.goal}"


class SupporterExport(models.Model):
    """One time an organization's opted-in supporters left Cosign for its people, a download or
    a page of the list, for its administrators to read (and in the audit log): who, when, which
    campaign and dates, how many people."""

    class Kind(models.TextChoices):
        DOWNLOAD = "download", _("Downloaded")
        VIEW = "view", _("Viewed on the list")
        API = "api", _("Read through the API")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="supporter_exports"
    )
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("exported by"),
    )
    created_at = models.DateTimeField(_("exported at"), default=timezone.now)
    petition = models.ForeignKey(
        Petition, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    since = models.DateField(_("consent from"), null=True, blank=True)
    until = models.DateField(_("consent until"), null=True, blank=True)
    rows = models.PositiveIntegerField(_("supporters"))
    kind = models.CharField(_("how"), max_length=10, choices=Kind.choices, default=Kind.DOWNLOAD)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("supporter export")
        verbose_name_plural = _("supporter exports")

    def __str__(self) -> str:
        return f"{self.organization} {self.created_at:%Y-%m-%d %H:%M} ({self.rows})"
