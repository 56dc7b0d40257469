"""Writes of a petition's sign-form questions: checking one, publishing the set signers answer
from then on (an immutable QuestionSet, found by its digest), and the workspace's edits.

Who may change them: staff, in the admin, at any time; an organization's editors, in the
workspace, only while the draft they lead is editable (before it is submitted, or after staff
returned it). Once a campaign is published its questions change only through staff, and
whatever changes, a signature keeps the snapshot it answered, so earlier answers keep their
meaning and stay in exports.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, User
from mechanisms.audit import audit_log
from petitions.drafting.kinds import DraftKind
from petitions.drafting.petition_kind import PETITION
from petitions.drafting.services import _locked, _require_editable, _require_verified
from petitions.models import Question, QuestionKind, QuestionSet
from petitions.models.questions import (
    CHOICE_KINDS,
    CHOICE_MAX_LENGTH,
    CHOICES_MAX,
    QUESTIONS_MAX,
)


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def question_check(*, question: Question) -> None:
    """Raise ValidationError, by field, for what a sign form could not ask: a choice question
    with fewer than two choices, or languages whose choices do not line up; a number question
    whose smallest number is above its largest."""
    errors: dict[str, list[str]] = {}
    default = settings.LANGUAGE_CODE
    if question.kind in CHOICE_KINDS:
        counts = {
            code: len(_lines(getattr(question, f"choices_{code}", ""))) for code in _languages()
        }
        default_choices = _lines(getattr(question, f"choices_{default}", ""))
        if len(default_choices) < 2:
            errors[f"choices_{default}"] = [str(_("Give at least two choices, one a line."))]
        elif len(default_choices) > CHOICES_MAX:
            errors[f"choices_{default}"] = [
                str(_("Give at most %(count)d choices.") % {"count": CHOICES_MAX})
            ]
        for code, count in counts.items():
            if code != default and count and count != len(default_choices):
                errors[f"choices_{code}"] = [
                    str(
                        _(
                            "Give the same choices in every language, one a line and in the "
                            "same order: %(count)d here, %(expected)d in the first language."
                        )
                        % {"count": count, "expected": len(default_choices)}
                    )
                ]
        for code in _languages():
            if any(
                len(line) > CHOICE_MAX_LENGTH
                for line in _lines(getattr(question, f"choices_{code}", ""))
            ):
                errors.setdefault(f"choices_{code}", []).append(
                    str(
                        _("Keep each choice to at most %(count)d characters.")
                        % {"count": CHOICE_MAX_LENGTH}
                    )
                )
    if (
        question.kind == QuestionKind.NUMBER
        and question.min_value is not None
        and question.max_value is not None
        and question.min_value > question.max_value
    ):
        errors["max_value"] = [str(_("The largest number must not be below the smallest."))]
    if errors:
        raise ValidationError(errors)


def _snapshot(question: Question) -> dict[str, Any]:
    languages = _languages()
    item: dict[str, Any] = {
        "key": question.key,
        "kind": question.kind,
        "label": {code: getattr(question, f"label_{code}") or "" for code in languages},
        "required": question.required,
    }
    if question.kind in CHOICE_KINDS:
        by_language = {code: _lines(getattr(question, f"choices_{code}", "")) for code in languages}
        count = len(by_language[settings.LANGUAGE_CODE])
        item["choices"] = [
            {
                code: lines[number] if number < len(lines) else ""
                for code, lines in by_language.items()
            }
            for number in range(count)
        ]
    if question.kind == QuestionKind.NUMBER:
        item["min"], item["max"] = question.min_value, question.max_value
    if question.kind == QuestionKind.TEXT:
        item["max_length"] = question.max_length
    return item


def question_set_publish(*, petition_id: int) -> QuestionSet | None:
    """Make the petition's questions as they stand now the ones its sign form asks: the snapshot
    with their content, made if no petition asked exactly these before. None without questions."""
    return questions_publish(kind=PETITION, campaign_id=petition_id)


def questions_publish(*, kind: DraftKind, campaign_id: int) -> QuestionSet | None:
    """The same for any drafting kind (a petition, a letter's individual sign form): a question's
    owner field is named as its kind, and the campaign keeps the snapshot in `question_set`."""
    with transaction.atomic():
        questions = [
            _snapshot(q) for q in Question.objects.filter(**{f"{kind.name}_id": campaign_id})
        ]
        question_set = None
        if questions:
            content = json.dumps(questions, sort_keys=True, separators=(",", ":"))
            question_set, _created = QuestionSet.objects.get_or_create(
                digest=hashlib.sha256(content.encode()).hexdigest(),
                defaults={"questions": questions},
            )
        kind.model.objects.filter(pk=campaign_id).update(question_set=question_set)
    return question_set


def question_key_new() -> str:
    """A key for a new question: unguessable is not needed, only never reused in a petition."""
    return f"q{secrets.token_hex(4)}"


def question_save(
    *, petition_id: int, organization: Organization, user: User | None, question: Question
) -> Question:
    """Add or change a question of a draft petition the organization leads."""
    return campaign_question_save(
        kind=PETITION,
        campaign_id=petition_id,
        organization=organization,
        user=user,
        question=question,
    )


@transaction.atomic
def campaign_question_save(
    *,
    kind: DraftKind,
    campaign_id: int,
    organization: Organization,
    user: User | None,
    question: Question,
) -> Question:
    """Add or change a question of a draft the organization leads (the workspace form's unsaved
    instance), and publish the set. Refused, with nothing written, once the draft is submitted
    or published, or past QUESTIONS_MAX questions."""
    campaign = _locked(kind, campaign_id)
    _require_verified(organization)
    _require_editable(campaign)
    own = Question.objects.filter(**{kind.name: campaign})
    if question.pk is None:
        if own.count() >= QUESTIONS_MAX:
            raise ValidationError(
                _("A campaign asks at most %(count)d questions.") % {"count": QUESTIONS_MAX},
                code="too_many",
            )
        question.key = question_key_new()
    elif not own.filter(pk=question.pk).exists():
        raise ValidationError(_("This question is not one of this campaign's."), code="unknown")
    setattr(question, kind.name, campaign)
    if question.kind not in CHOICE_KINDS:
        for code in _languages():
            setattr(question, f"choices_{code}", "")
    question_check(question=question)
    question.full_clean()
    question.save()
    questions_publish(kind=kind, campaign_id=campaign.pk)
    if user is not None:
        audit_log(
            user=user, objects=[campaign], message=f"Saved sign-form question {question.key}."
        )
    return question


def question_delete(
    *, petition_id: int, organization: Organization, user: User | None, question_id: int
) -> None:
    """Take a question off a draft petition the organization leads."""
    campaign_question_delete(
        kind=PETITION,
        campaign_id=petition_id,
        organization=organization,
        user=user,
        question_id=question_id,
    )


@transaction.atomic
def campaign_question_delete(
    *,
    kind: DraftKind,
    campaign_id: int,
    organization: Organization,
    user: User | None,
    question_id: int,
) -> None:
    """Take a question off a draft the organization leads, and publish the set."""
    campaign = _locked(kind, campaign_id)
    _require_verified(organization)
    _require_editable(campaign)
    deleted, _by_model = Question.objects.filter(pk=question_id, **{kind.name: campaign}).delete()
    if not deleted:
        raise ValidationError(_("This question is not one of this campaign's."), code="unknown")
    questions_publish(kind=kind, campaign_id=campaign.pk)
    if user is not None:
        audit_log(user=user, objects=[campaign], message="Removed a sign-form question.")
