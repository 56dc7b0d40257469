"""Reads for staff exports: a petition's signatures as CSV, streamed.

The rows come from a server-side cursor (`.iterator()` on PostgreSQL) a chunk at a time and go
out as they are written, so memory stays flat however many people signed. Every cell passes
through `csv_cell`, so a name like `=HYPERLINK(...)` reaches the spreadsheet as text.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from django.utils.translation import gettext

from mechanisms.admin_moderation import flag_labels
from mechanisms.spreadsheet import csv_lines
from petitions.models import PaperSignature, Petition, QuestionSet, Signature
from petitions.questions import AskedQuestion, answered_questions, questions_of

# Rows fetched per round trip from the server-side cursor.
EXPORT_CHUNK_SIZE = 2000

_COLUMNS = (
    "name",
    "email",
    "display",
    "postal_code",
    "country",
    "locality",
    "status",
    "held",
    "flags",
    "created_at",
    "confirmed_at",
    "language",
    "consent_updates",
    "question_set_id",
    "answers",
)


def _header() -> list[str]:
    return [
        gettext("Name"),
        gettext("Email"),
        gettext("Name shown as"),
        gettext("Postal code"),
        gettext("Country"),
        gettext("Locality"),
        gettext("Status"),
        gettext("Held for review"),
        gettext("Flags"),
        gettext("Signed at"),
        gettext("Confirmed at"),
        gettext("Language"),
        gettext("Consents to updates"),
    ]


def petition_signatures_csv(
    *, petition_id: int, chunk_size: int = EXPORT_CHUNK_SIZE
) -> Iterator[str]:
    """The lines of a CSV file of every signature of a petition, oldest first, header first,
    with a column for each of the petition's own questions that anyone answered or that its
    form asks now (petitions.questions)."""
    current_id, question_sets = _question_sets(petition_id)
    questions = answered_questions(question_sets.values())
    current = question_sets.get(current_id) if current_id is not None else None
    asked = {question.key for question in questions_of(current)}
    return csv_lines(
        header=_header() + _question_headers(questions, asked=asked),
        rows=itertools.chain(
            _signature_rows(petition_id, chunk_size, questions, question_sets),
            # Paper signers answered no questions: their cells stay empty.
            (row + [""] * len(questions) for row in _paper_rows(petition_id, chunk_size)),
        ),
    )


def _question_sets(petition_id: int) -> tuple[int | None, dict[int, QuestionSet]]:
    """The id of the petition's question snapshot now, and the snapshots of its signatures and
    of its form now, by id, newest first."""
    current = Petition.objects.filter(pk=petition_id).values_list("question_set_id", flat=True)
    current_id = current.first()
    answered = Signature.objects.filter(petition_id=petition_id, question_set__isnull=False)
    ids = set(answered.values_list("question_set_id", flat=True).distinct())
    if current_id is not None:
        ids.add(current_id)
    # The form's now first, then newest first: the latest snapshot names a question as it was
    # last asked (a set asked again after a change is the same, older, row).
    found = sorted(
        QuestionSet.objects.filter(pk__in=ids),
        key=lambda question_set: (question_set.pk != current_id, -question_set.pk),
    )
    return current_id, {question_set.pk: question_set for question_set in found}


def _question_headers(questions: list[AskedQuestion], *, asked: set[str]) -> list[str]:
    return [
        question.label_in()
        if question.key in asked
        # A question the form no longer asks keeps its column, for those who answered it.
        else gettext("%(question)s (no longer asked)") % {"question": question.label_in()}
        for question in questions
    ]


def _answer_cells(
    questions: list[AskedQuestion], question_set: QuestionSet | None, answers: dict[str, object]
) -> list[object]:
    """A signer's answers in the export's columns, read with the questions they answered."""
    theirs = {question.key: question for question in questions_of(question_set)}
    return [
        theirs[question.key].answer_shown(answers[question.key])
        if question.key in answers and question.key in theirs
        else ""
        for question in questions
    ]


def _signature_rows(
    petition_id: int,
    chunk_size: int,
    questions: list[AskedQuestion] | None = None,
    question_sets: dict[int, QuestionSet] | None = None,
) -> Iterator[list[object]]:
    questions = questions or []
    question_sets = question_sets or {}
    displays = {key: str(label) for key, label in Signature.Display.choices}
    statuses = {key: str(label) for key, label in Signature.Status.choices}
    yes, no = gettext("yes"), gettext("no")
    rows = (
        Signature.objects.filter(petition_id=petition_id)
        .order_by("pk")
        .values_list(*_COLUMNS)
        .iterator(chunk_size=chunk_size)
    )
    for row in rows:
        values = dict(zip(_COLUMNS, row, strict=True))
        cells = [
            values["name"],
            values["email"],
            displays.get(values["display"], values["display"]),
            values["postal_code"],
            values["country"],
            values["locality"],
            statuses.get(values["status"], values["status"]),
            yes if values["held"] else no,
            flag_labels(values["flags"]),
            values["created_at"].isoformat(),
            values["confirmed_at"].isoformat() if values["confirmed_at"] else "",
            values["language"],
            yes if values["consent_updates"] else no,
        ]
        if questions:
            cells += _answer_cells(
                questions, question_sets.get(values["question_set_id"]), values["answers"] or {}
            )
        yield cells


def _paper_rows(petition_id: int, chunk_size: int) -> Iterator[list[object]]:
    """The petition's paper signatures after the online ones, marked as paper in the status;
    "confirmed at" is when their batch was counted."""
    no = gettext("no")
    rows = (
        PaperSignature.objects.filter(petition_id=petition_id)
        .select_related("batch")
        .order_by("pk")
        .iterator(chunk_size=chunk_size)
    )
    for row in rows:
        if row.duplicate:
            status = gettext("On paper, not counted: counted online or on an earlier sheet")
        elif row.batch.counted_at:
            status = gettext("On paper, counted")
        else:
            status = gettext("On paper, being typed in")
        yield [
            row.name,
            row.email,
            gettext("Not listed (paper)"),
            row.postal_code,
            row.country.code or "",
            row.locality,
            status,
            no,
            "",
            row.created_at.isoformat(),
            row.batch.counted_at.isoformat() if row.batch.counted_at else "",
            "",
            no,
        ]
