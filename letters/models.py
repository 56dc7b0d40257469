"""Open letters co-signed by verified organizations, with spokesperson statements, and by
individuals who confirm by email."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modeltranslation.manager import MultilingualManager

from accounts.models import Organization
from mechanisms.domains import domain_normalize
from mechanisms.images import image_alt_constraint
from mechanisms.models import DeliveryRecord, ModeratedSignature
from petitions.drafting.models import CampaignInvitation, CampaignVersion, ReviewedCampaign
from petitions.models import Petition, Target, Topic

STATEMENT_MAX_LENGTH = 2000


class OpenLetter(ReviewedCampaign):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open for signatures")
        PUBLISHED = "published", _("Published")
        CLOSED = "closed", _("Closed")

    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(
        _("summary"), max_length=600, help_text=_("One paragraph: the pitch shown in lists.")
    )
    body = models.TextField(_("text of the letter"), help_text=_("Markdown."))
    addressed_to = models.CharField(_("addressed to"), max_length=300)
    ask = models.CharField(
        _("the ask"),
        max_length=300,
        help_text=_("What the letter asks for, in one sentence; the press release quotes it."),
    )
    lead_organizations = models.ManyToManyField(
        Organization,
        related_name="led_letters",
        verbose_name=_("lead organizations"),
        blank=True,
        help_text=_("They approve co-signers; staff do when there are none (an employee letter)."),
    )
    topic = models.ForeignKey(
        Topic, on_delete=models.PROTECT, related_name="letters", null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(_("publication date"), null=True, blank=True)
    media_contact_name = models.CharField(_("media contact"), max_length=200, blank=True)
    media_contact_email = models.EmailField(_("media contact email"), blank=True)
    media_contact_phone = models.CharField(_("media contact phone"), max_length=50, blank=True)
    targets = models.ManyToManyField(
        Target,
        related_name="letters",
        blank=True,
        verbose_name=_("targets"),
        help_text=_("Who receives the letter when it is published and after each update."),
    )
    related_petition = models.ForeignKey(
        Petition,
        on_delete=models.SET_NULL,
        related_name="letters",
        null=True,
        blank=True,
        verbose_name=_("escalates the petition"),
    )
    individuals_may_sign = models.BooleanField(_("individuals may sign"), default=False)
    # The individual sign form's own questions as published (petitions.services.questions): read
    # with the letter, so a letter without questions costs its signers nothing more.
    question_set = models.ForeignKey(
        "petitions.QuestionSet",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("sign-form questions"),
    )
    names_may_be_withheld = models.BooleanField(
        _("individuals may withhold their names"), default=False
    )
    individual_email_domains = models.CharField(
        _("individuals must confirm from"),
        max_length=500,
        blank=True,
        help_text=_("Email domains, separated by commas (an employee letter). Empty: any."),
    )
    withheld_label = models.CharField(
        _("withheld signers appear as"),
        max_length=100,
        blank=True,
        help_text=_("e.g. 'Employee' shows 'Employee, name withheld'."),
    )
    # A picture for the page and its link previews (mechanisms.images), with its text for
    # readers who cannot see it, in every language.
    image = models.ForeignKey(
        "mechanisms.Image",
        on_delete=models.PROTECT,
        related_name="letters",
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
    # When it stopped taking signatures; individual signers' personal data is anonymized
    # SIGNATURE_RETENTION_DAYS after this.
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # modeltranslation (translation.py) makes the default manager its own.
    objects: ClassVar[MultilingualManager[OpenLetter]]

    class Meta:
        ordering = ("-published_at", "-created_at")
        verbose_name = _("open letter")
        verbose_name_plural = _("open letters")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(review="") | Q(organization__isnull=False),
                name="letters_letter_review_has_organization",
            ),
            models.CheckConstraint(
                condition=~Q(review="submitted") | Q(submitted_at__isnull=False),
                name="letters_letter_submitted_has_date",
            ),
            image_alt_constraint(prefix="letters_letter"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("letters:detail", kwargs={"slug": self.slug})

    @property
    def accepts_signatures(self) -> bool:
        # Letters often keep gathering names after they are published.
        return self.status in (self.Status.OPEN, self.Status.PUBLISHED)

    @property
    def required_domains(self) -> list[str]:
        # In the one IDNA form addresses are compared in (mechanisms.domains).
        return [
            domain_normalize(domain.strip().lstrip("@"))
            for domain in self.individual_email_domains.split(",")
            if domain.strip()
        ]


class OrganizationSignature(models.Model):
    """An organization's name on a letter, signed by one of its members."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    letter = models.ForeignKey(
        OpenLetter, on_delete=models.CASCADE, related_name="organization_signatures"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="letter_signatures"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("signed at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        ordering = ("created_at",)
        verbose_name = _("organization signature")
        verbose_name_plural = _("organization signatures")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("letter", "organization"), name="letters_one_signature_per_org"
            ),
            models.CheckConstraint(
                condition=~Q(status="withdrawn") | Q(withdrawn_at__isnull=False),
                name="letters_withdrawn_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} on {self.letter}"


class Statement(models.Model):
    """A quote from a named spokesperson, approved separately from the signature."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    signature = models.OneToOneField(
        OrganizationSignature, on_delete=models.CASCADE, related_name="statement"
    )
    speaker_name = models.CharField(_("spokesperson"), max_length=200)
    speaker_title = models.CharField(_("spokesperson's title"), max_length=200)
    text = models.TextField(
        _("statement"),
        max_length=STATEMENT_MAX_LENGTH,
        # A TextField's max_length binds forms only; the validator makes full_clean say it too.
        validators=[MaxLengthValidator(STATEMENT_MAX_LENGTH)],
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), STATEMENT_MAX_LENGTH),
                name="letters_statement_max_length",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.speaker_name}, {self.speaker_title}"


class IndividualSignature(ModeratedSignature):
    """An expert or employee signing in their own name, confirmed by email like a petition."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting email confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Rejected")
        SPAM = "spam", _("Spam")

    letter = models.ForeignKey(
        OpenLetter, on_delete=models.CASCADE, related_name="individual_signatures"
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"))
    canonical_email = models.CharField(_("canonical email"), max_length=254, editable=False)
    title = models.CharField(_("title or role"), max_length=200, blank=True)
    affiliation = models.CharField(_("affiliation"), max_length=200, blank=True)
    withhold_name = models.BooleanField(_("name withheld publicly"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    created_at = models.DateTimeField(_("signed at"), default=timezone.now, editable=False)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    ip_hash = models.CharField(_("IP hash"), max_length=64, blank=True, editable=False)
    # The letter's own questions as this signer saw them, and their answers by question key:
    # personal data, emptied by retention with the name (letters.personal_data).
    question_set = models.ForeignKey(
        "petitions.QuestionSet",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("questions answered"),
    )
    answers = models.JSONField(
        _("answers"),
        default=dict,
        db_default=models.Value({}, output_field=models.JSONField()),
        blank=True,
    )

    class Meta:
        ordering = ("confirmed_at", "created_at")
        verbose_name = _("individual signature")
        verbose_name_plural = _("individual signatures")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("letter", "canonical_email"),
                condition=Q(anonymized_at__isnull=True),
                name="letters_one_signature_per_person",
            ),
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(confirmed_at__isnull=False),
                name="letters_individual_confirmed_has_date",
            ),
            # Only a link that went out can bounce (mechanisms.bounces); and so retention, which
            # deletes pending signatures by their last link's time, deletes undeliverable ones.
            models.CheckConstraint(
                condition=Q(undeliverable_at__isnull=True) | Q(confirmation_sent_at__isnull=False),
                name="letters_individual_undeliverable_was_sent",
            ),
            # Answers mean something only beside the questions they answer.
            models.CheckConstraint(
                condition=Q(answers={}) | Q(question_set__isnull=False),
                name="letters_individual_answers_have_questions",
            ),
        ]

    @property
    def public_name(self) -> str:
        """What the public sees: never the name of someone who asked to withhold it."""
        if self.withhold_name:
            label = self.letter.withheld_label
            return (
                str(_("%(label)s, name withheld") % {"label": label})
                if label
                else str(_("Name withheld"))
            )
        return self.name


class LetterUpdate(models.Model):
    class Kind(models.TextChoices):
        UPDATE = "update", _("Update")
        CORRECTION = "correction", _("Correction")

    letter = models.ForeignKey(OpenLetter, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.UPDATE)
    text = models.TextField(_("text"), help_text=_("Markdown."))
    published_at = models.DateTimeField(_("date"), default=timezone.now)

    # modeltranslation (translation.py) makes the default manager its own.
    objects: ClassVar[MultilingualManager[LetterUpdate]]

    class Meta:
        ordering = ("published_at",)
        verbose_name = _("letter update")
        verbose_name_plural = _("letter updates")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.published_at:%Y-%m-%d}"


class LetterDelivery(DeliveryRecord):
    """The letter sent to one target on one occasion (publication, or an update). The unique
    row and its conditional claim keep it to one email however often the task runs."""

    letter = models.ForeignKey(OpenLetter, on_delete=models.CASCADE, related_name="deliveries")
    target = models.ForeignKey(Target, on_delete=models.PROTECT, related_name="letter_deliveries")
    occasion = models.CharField(_("occasion"), max_length=40)
    update = models.ForeignKey(
        LetterUpdate, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    organization_count = models.PositiveIntegerField(_("organizations"), default=0)

    class Meta(DeliveryRecord.Meta):
        verbose_name = _("letter delivery")
        verbose_name_plural = _("letter deliveries")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("letter", "target", "occasion"), name="letters_delivery_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.letter_id} -> {self.target_id} ({self.occasion})"


class LetterVersion(CampaignVersion):
    campaign = models.ForeignKey(OpenLetter, on_delete=models.CASCADE, related_name="versions")

    class Meta(CampaignVersion.Meta):
        verbose_name = _("letter version")
        verbose_name_plural = _("letter versions")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("campaign", "number"), name="letters_version_once"),
        ]


class LetterInvitation(CampaignInvitation):
    campaign = models.ForeignKey(OpenLetter, on_delete=models.CASCADE, related_name="invitations")

    class Meta(CampaignInvitation.Meta):
        verbose_name = _("letter invitation")
        verbose_name_plural = _("letter invitations")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("campaign", "organization"), name="letters_invitation_once"
            ),
        ]


class LetterReview(OpenLetter):
    """The staff's queue in the admin: letters organizations submitted for review."""

    class Meta:
        proxy = True
        verbose_name = _("letter awaiting review")
        verbose_name_plural = _("letters awaiting review")
