"""A campaign's own questions on its sign form, and the snapshots signers answered.

Questions are edited as rows (`Question`, one per question, label and choices in each language).
Signers never point at those rows: each edit publishes the whole set as a `QuestionSet`, an
immutable snapshot identified by the digest of its content, and a signature keeps the snapshot it
answered beside its answers. Changing, reordering or removing a question later therefore never
changes what an earlier answer meant, and exports can still read it.
"""

from __future__ import annotations

from typing import ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modeltranslation.manager import MultilingualManager

# Bounds an editor may set, and what a signer may type at most.
TEXT_MAX_LENGTH = 1000
QUESTIONS_MAX = 10
CHOICES_MAX = 20
CHOICE_MAX_LENGTH = 200


class QuestionKind(models.TextChoices):
    TEXT = "text", _("Short text")
    SINGLE = "single", _("One choice")
    MULTIPLE = "multiple", _("Several choices")
    YES_NO = "yes_no", _("Yes or no")
    NUMBER = "number", _("Number")


# The kinds whose answers are tallied on dashboards.
TALLIED_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.YES_NO)
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


class Question(models.Model):
    """One extra question a petition asks on its sign form, as editors write it now."""

    petition = models.ForeignKey(
        "petitions.Petition",
        on_delete=models.CASCADE,
        related_name="questions",
        # Null for a letter's question: exactly one owner (the check below). The owner's field is
        # named as its drafting kind ("petition", "letter"), so services find it by the kind.
        null=True,
        blank=True,
    )
    # A letter's individual signers are asked questions the same way: one table, one form and one
    # translation for both campaigns, rather than a second model to keep in step.
    letter = models.ForeignKey(
        "letters.OpenLetter",
        on_delete=models.CASCADE,
        related_name="questions",
        null=True,
        blank=True,
    )
    # Stable across edits of this question: answers and export columns are keyed by it.
    key = models.CharField(_("key"), max_length=20, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=QuestionKind.choices)
    label = models.CharField(_("question"), max_length=300)
    choices = models.TextField(
        _("choices"),
        blank=True,
        help_text=_(
            "For a choice question: one choice a line, in the same order in every language."
        ),
    )
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    min_value = models.IntegerField(_("smallest number"), null=True, blank=True)
    max_value = models.IntegerField(_("largest number"), null=True, blank=True)
    max_length = models.PositiveSmallIntegerField(
        _("longest answer"),
        default=200,
        validators=[MinValueValidator(1), MaxValueValidator(TEXT_MAX_LENGTH)],
        help_text=_("For a text question: the most characters a signer may type."),
    )

    # modeltranslation (translation.py) makes the default manager its own.
    objects: ClassVar[MultilingualManager[Question]]

    class Meta:
        ordering = ("position", "pk")
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("petition", "key"), name="petitions_question_key"),
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(max_value__gte=F("min_value")),
                name="petitions_question_min_max",
            ),
            models.CheckConstraint(
                condition=Q(max_length__gte=1) & Q(max_length__lte=TEXT_MAX_LENGTH),
                name="petitions_question_max_length",
            ),
            models.UniqueConstraint(fields=("letter", "key"), name="petitions_question_letter_key"),
            models.CheckConstraint(
                condition=Q(petition__isnull=False, letter__isnull=True)
                | Q(petition__isnull=True, letter__isnull=False),
                name="petitions_question_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class QuestionSet(models.Model):
    """The questions of a sign form as one signer saw them: never changed once written.

    `questions` is a list of {key, kind, label: {language: text}, choices: [{language: text}],
    required, min, max, max_length}; a choice's answer is its number in the list, from 1."""

    digest = models.CharField(max_length=64, unique=True, editable=False)
    questions = models.JSONField(_("questions"), default=list, editable=False)
    created_at = models.DateTimeField(_("first used at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("set of sign-form questions")
        verbose_name_plural = _("sets of sign-form questions")

    def __str__(self) -> str:
        return self.digest[:12]
