"""Demo data for the campaign tools with `make run`, on the demo petition: two questions on its
sign form, a response threshold its targets were asked at and the next one ahead, and a counted
batch of paper signatures typed in by Oakland Privacy, one of them a person who also signed
online (counted once). A second run adds nothing.

Every name and address here is invented; the domains use the reserved `.test` top-level domain.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.models import Organization, User
from petitions.demo_signatures import DEMO_PETITION
from petitions.demo_workspace import MEMBER_EMAIL, SIGNERS, WORKSPACE_ORGANIZATION
from petitions.models import PaperBatch, Petition, Question, QuestionKind, Threshold
from petitions.services.counting import paper_batches_tally
from petitions.services.paper import PaperRow, paper_batch_create, paper_batch_finish, paper_row_add
from petitions.services.questions import question_key_new, question_set_publish
from petitions.services.thresholds import thresholds_reach

DAYS_TO_RESPOND = 30
SHEET_REFERENCE = "Demo: farmers' market stall, box 1"
PAPER_LINES = (
    ("Marisol Ortega", "94612", ""),
    ("Dev Patel", "94607", "dev.patel@street.test"),
    ("Joan Whitfield", "94610", ""),
    ("Tomás Reyes", "94618", ""),
)


@dataclass(frozen=True)
class DemoTools:
    questions: int
    thresholds: int
    paper_lines: int


def demo_tools_seed() -> DemoTools:
    petition = Petition.objects.get(slug=DEMO_PETITION)
    with transaction.atomic():
        questions = _questions(petition)
        thresholds = _thresholds(petition)
        paper_lines = _paper(petition)
    return DemoTools(questions=questions, thresholds=thresholds, paper_lines=paper_lines)


def _questions(petition: Petition) -> int:
    if petition.questions.exists():
        return petition.questions.count()
    Question.objects.create(
        petition=petition,
        key=question_key_new(),
        kind=QuestionKind.SINGLE,
        label_en="How did you hear about this petition?",
        label_it="Come hai saputo di questa petizione?",
        choices_en="From a friend\nSocial media\nA local organization\nThe news",
        choices_it="Da un'amica o un amico\nSui social\nDa un'associazione locale\nDalle notizie",
        position=1,
    )
    Question.objects.create(
        petition=petition,
        key=question_key_new(),
        kind=QuestionKind.YES_NO,
        label_en="Would you speak at a city council meeting about this?",
        label_it="Interverresti in consiglio comunale su questo tema?",
        position=2,
    )
    question_set_publish(petition_id=petition.pk)
    return 2


def _thresholds(petition: Petition) -> int:
    """One threshold the count has passed, so its targets are asked (their emails print in the
    terminal) and the page shows the days left, and the next one ahead of the count."""
    if not Threshold.objects.filter(petition=petition).exists():
        reached = max(1, petition.total_count // 2)
        ahead = (petition.total_count // 1000 + 1) * 1000
        for count in (reached, ahead):
            Threshold.objects.create(
                petition=petition, count=count, days_to_respond=DAYS_TO_RESPOND
            )
        thresholds_reach(petition_ids=[petition.pk])
    return Threshold.objects.filter(petition=petition).count()


def _paper(petition: Petition) -> int:
    organization = Organization.objects.get(slug=WORKSPACE_ORGANIZATION)
    if PaperBatch.objects.filter(petition=petition, sheet_reference=SHEET_REFERENCE).exists():
        return len(PAPER_LINES) + 1
    user = User.objects.get(email__iexact=MEMBER_EMAIL)
    batch = paper_batch_create(
        petition=petition, organization=organization, user=user, sheet_reference=SHEET_REFERENCE
    )
    # The last line is someone who also signed online: recorded, counted once.
    online_name, online_email = SIGNERS[0]
    lines = [*PAPER_LINES, (online_name, "94612", online_email)]
    for number, (name, postal_code, email) in enumerate(lines, start=1):
        paper_row_add(
            batch=batch,
            row=PaperRow(
                sheet=1, line=number, name=name, postal_code=postal_code, country="US", email=email
            ),
        )
    paper_batch_finish(batch=batch, user=user)
    # The counter brings finished batches in; the demo does not wait for its next tick.
    paper_batches_tally()
    return len(lines)
