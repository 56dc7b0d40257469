"""Reading a petition's sign-form questions as a signer answered them (a QuestionSet's snapshot):
their texts in a language, what an answer says, and whether answers fit their questions.

Pure functions over the snapshot's JSON, with no query: the sign POST checks answers with them,
and exports, the API, dashboards and a signer's own data show answers with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from petitions.models.questions import (
    CHOICE_KINDS,
    TEXT_MAX_LENGTH,
    QuestionKind,
    QuestionSet,
)

# Numbers a signer may type whatever the question's bounds: JSON and spreadsheets keep them exact.
NUMBER_LIMIT = 10**12


def text_in(texts: Mapping[str, str], language: str | None = None) -> str:
    """A text of the snapshot in `language`, else in the site's default, else in any."""
    language = (language or get_language() or settings.LANGUAGE_CODE).split("-")[0]
    for code in (language, settings.LANGUAGE_CODE):
        if texts.get(code):
            return texts[code]
    return next((text for text in texts.values() if text), "")


@dataclass(frozen=True)
class AskedQuestion:
    """One question of a snapshot."""

    key: str
    kind: str
    label: Mapping[str, str]
    choices: Sequence[Mapping[str, str]]
    required: bool
    min: int | None
    max: int | None
    max_length: int

    def label_in(self, language: str | None = None) -> str:
        return text_in(self.label, language)

    def choice_keys(self) -> list[str]:
        # A choice's answer is its number in the list, from 1, in the snapshot it was given in.
        return [str(number) for number in range(1, len(self.choices) + 1)]

    def choice_in(self, key: str, language: str | None = None) -> str:
        index = int(key) - 1 if key.isdigit() else -1
        if 0 <= index < len(self.choices):
            return text_in(self.choices[index], language)
        return key

    def answer_shown(self, value: Any, language: str | None = None) -> str:
        """An answer as a person reads it: the choice's words, "yes" or "no", the number."""
        if value is None or value == "" or value == []:
            return ""
        if self.kind == QuestionKind.YES_NO:
            return gettext("yes") if value is True else gettext("no")
        if self.kind == QuestionKind.SINGLE:
            return self.choice_in(str(value), language)
        if self.kind == QuestionKind.MULTIPLE and isinstance(value, list):
            return "; ".join(self.choice_in(str(item), language) for item in value)
        return str(value)


def questions_of(question_set: QuestionSet | None) -> list[AskedQuestion]:
    if question_set is None:
        return []
    return [
        AskedQuestion(
            key=item["key"],
            kind=item["kind"],
            label=item.get("label") or {},
            choices=item.get("choices") or [],
            required=bool(item.get("required")),
            min=item.get("min"),
            max=item.get("max"),
            max_length=int(item.get("max_length") or TEXT_MAX_LENGTH),
        )
        for item in question_set.questions
    ]


def answers_shown(
    *, question_set: QuestionSet | None, answers: Mapping[str, Any], language: str | None = None
) -> list[tuple[str, str]]:
    """(question, answer) in the words the signer saw, for the questions they answered."""
    return [
        (question.label_in(language), question.answer_shown(answers[question.key], language))
        for question in questions_of(question_set)
        if question.key in answers
    ]


def answers_text(signature: Any) -> str:
    """A signature's answers on one line, "question: answer; ...", for staff's pages."""
    return "; ".join(
        f"{question}: {answer}"
        for question, answer in answers_shown(
            question_set=signature.question_set, answers=signature.answers or {}
        )
    )


def _invalid(question: AskedQuestion) -> ValidationError:
    return ValidationError(
        _("The answer to “%(question)s” does not fit the question."),
        code="answer_invalid",
        params={"question": question.label_in()},
    )


def _answer_check(question: AskedQuestion, value: Any) -> Any:
    kind = question.kind
    if kind == QuestionKind.TEXT:
        if not isinstance(value, str) or len(value) > question.max_length:
            raise _invalid(question)
        return value
    if kind == QuestionKind.YES_NO:
        if not isinstance(value, bool):
            raise _invalid(question)
        return value
    if kind == QuestionKind.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > NUMBER_LIMIT:
            raise _invalid(question)
        if (question.min is not None and value < question.min) or (
            question.max is not None and value > question.max
        ):
            raise _invalid(question)
        return value
    keys = question.choice_keys()
    if kind == QuestionKind.SINGLE:
        if value not in keys:
            raise _invalid(question)
        return value
    if kind == QuestionKind.MULTIPLE:
        if not isinstance(value, list) or not value or any(item not in keys for item in value):
            raise _invalid(question)
        # In the order the choices were offered, each once.
        return [key for key in keys if key in value]
    raise _invalid(question)


def answers_validate(
    *, question_set: QuestionSet | None, answers: Mapping[str, Any]
) -> dict[str, Any]:
    """The answers as they are stored: each checked against its question in the snapshot, empty
    ones left out. Raises ValidationError for an answer to no question, one that does not fit
    its question, or a required question left unanswered."""
    questions = {question.key: question for question in questions_of(question_set)}
    unknown = set(answers) - set(questions)
    if unknown:
        raise ValidationError(_("Answers to questions this petition does not ask."), code="unknown")
    stored: dict[str, Any] = {}
    for key, question in questions.items():
        value = answers.get(key)
        if value is None or value == "" or value == []:
            if question.required:
                raise ValidationError(
                    _("“%(question)s” needs an answer."),
                    code="required",
                    params={"question": question.label_in()},
                )
            continue
        stored[key] = _answer_check(question, value)
    return stored


def answered_questions(question_sets: Iterable[QuestionSet]) -> list[AskedQuestion]:
    """Every question of these snapshots once, by key, as the newest snapshot that has it asks
    it (newest first in `question_sets`), in that snapshot's order: an export's columns."""
    seen: dict[str, AskedQuestion] = {}
    for question_set in question_sets:
        for question in questions_of(question_set):
            seen.setdefault(question.key, question)
    return list(seen.values())


def is_choice(kind: str) -> bool:
    return kind in CHOICE_KINDS
