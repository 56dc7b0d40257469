"""An open letter's own questions for its individual signers: the same Question rows and
QuestionSet snapshots as a petition's (petitions.models.questions), owned by the letter; the
letter's sign form asks them, the one-statement sign path stores the answers with the snapshot,
and they reach the lead organizations' dashboard as counts, the signer's own data download, the
signature's admin page, and go with retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from letters import dashboard, services
from letters.drafting import LETTER
from letters.models import IndividualSignature, OpenLetter
from mechanisms.personal_data import personal_data_anonymize_expired, personal_data_export
from petitions.models import Question, QuestionKind, QuestionSet
from petitions.services.questions import questions_publish
from tests.factories import (
    MembershipFactory,
    OpenLetterFactory,
    OrganizationFactory,
    PetitionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SIGNER = {"name": "Dana Whitfield", "email": "dana@example.org", "title": "Professor of Law"}

WORKPLACE = {
    "kind": QuestionKind.SINGLE,
    "label_en": "Where do you work?",
    "label_it": "Dove lavori?",
    "choices_en": "University\nCompany\nPublic office",
    "choices_it": "Università\nAzienda\nUfficio pubblico",
    "required": True,
}
SPEAK = {
    "kind": QuestionKind.YES_NO,
    "label_en": "May we ask you to speak to the press?",
    "label_it": "Possiamo chiederti di parlare alla stampa?",
}


@pytest.fixture
def letter() -> OpenLetter:
    return OpenLetterFactory(individuals_may_sign=True)


def ask(letter: OpenLetter, *specs: dict[str, Any]) -> list[Question]:
    """Give the letter these questions (replacing any) and publish them, as the admin does."""
    Question.objects.filter(letter=letter).delete()
    made = []
    for position, spec in enumerate(specs):
        question = Question(letter=letter, key=f"q{position}l{letter.pk}", position=position)
        for name, value in spec.items():
            setattr(question, name, value)
        question.save()
        made.append(question)
    questions_publish(kind=LETTER, campaign_id=letter.pk)
    letter.refresh_from_db()
    return made


def field(question: Question) -> str:
    return f"question_{question.key}"


def sign(letter: OpenLetter, data: dict[str, Any], *, language: str = "en") -> Any:
    url = reverse("letters:sign", kwargs={"slug": letter.slug}).replace("/en/", f"/{language}/")
    return Client().post(url, data)


def signed(letter: OpenLetter, email: str, answers: dict[str, Any], **fields: Any):
    signature_id = services.individual_signature_create(
        letter=letter, name="Rosa Chen", email=email, answers=answers
    )
    IndividualSignature.objects.filter(pk=signature_id).update(**fields)
    return IndividualSignature.objects.get(pk=signature_id)


# --- Ownership ---------------------------------------------------------------------------------


def test_a_question_has_exactly_one_owner(letter) -> None:
    petition = PetitionFactory()
    for owners in ({}, {"letter": letter, "petition": petition}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Question.objects.create(key="qx", kind="text", label_en="X", **owners)
    # The same key in a petition and a letter: each campaign's keys are its own.
    Question.objects.create(letter=letter, key="qsame", kind="text", label_en="X")
    Question.objects.create(petition=petition, key="qsame", kind="text", label_en="X")
    with pytest.raises(IntegrityError), transaction.atomic():
        Question.objects.create(letter=letter, key="qsame", kind="text", label_en="Y")


def test_publishing_a_letters_questions_leaves_petitions_alone(letter) -> None:
    petition = PetitionFactory()
    Question.objects.create(petition=petition, key="qpet", kind="text", label_en="Street")
    workplace, speak = ask(letter, WORKPLACE, SPEAK)
    assert [q["key"] for q in letter.question_set.questions] == [workplace.key, speak.key]
    petition.refresh_from_db()
    assert petition.question_set is None
    Question.objects.filter(letter=letter).delete()
    assert questions_publish(kind=LETTER, campaign_id=letter.pk) is None
    letter.refresh_from_db()
    assert letter.question_set is None


# --- Signing -----------------------------------------------------------------------------------


def test_the_sign_form_asks_the_questions_in_the_signers_language(letter) -> None:
    ask(letter, WORKPLACE, SPEAK)
    english = Client().get(letter.get_absolute_url()).content.decode()
    assert "Where do you work?" in english and "Public office" in english
    italian = Client().get(letter.get_absolute_url().replace("/en/", "/it/")).content.decode()
    assert "Dove lavori?" in italian and "Ufficio pubblico" in italian


def test_signing_stores_the_answers_with_the_questions_as_they_were(letter) -> None:
    workplace, speak = ask(letter, WORKPLACE, SPEAK)
    response = sign(letter, SIGNER | {field(workplace): "2", field(speak): "yes"})
    assert response.status_code == 302
    signature = IndividualSignature.objects.get()
    assert signature.answers == {workplace.key: "2", speak.key: True}
    seen = signature.question_set_id
    assert seen == letter.question_set_id
    # The letter rewords its choices later: the signature keeps the snapshot it answered.
    ask(letter, {**WORKPLACE, "choices_en": "Lab\nFirm\nAgency"})
    signature.refresh_from_db()
    assert signature.question_set_id == seen != letter.question_set_id
    assert signature.question_set.questions[0]["choices"][1]["en"] == "Company"


def test_a_refused_form_says_which_question_and_keeps_what_was_typed(letter) -> None:
    workplace, speak = ask(letter, WORKPLACE, SPEAK)
    response = sign(letter, SIGNER | {field(speak): "no"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please answer this question." in html
    assert 'value="Dana Whitfield"' in html and 'value="Professor of Law"' in html
    assert f'name="{field(speak)}" value="no"' in html and "checked" in html
    assert not IndividualSignature.objects.exists()
    wrong = sign(letter, SIGNER | {field(workplace): "9"})
    assert wrong.status_code == 400
    assert "Select a valid choice." in wrong.content.decode()
    assert not IndividualSignature.objects.exists()


def test_optional_questions_may_be_left_unanswered(letter) -> None:
    workplace, _speak = ask(letter, WORKPLACE, SPEAK)
    assert sign(letter, SIGNER | {field(workplace): "1"}).status_code == 302
    assert IndividualSignature.objects.get().answers == {workplace.key: "1"}


def test_signing_again_keeps_the_first_answers_and_answers_the_same(letter) -> None:
    workplace, _speak = ask(letter, WORKPLACE, SPEAK)
    first = sign(letter, SIGNER | {field(workplace): "1"})
    again = sign(letter, SIGNER | {field(workplace): "3"})
    assert (first.status_code, again.status_code) == (302, 302)
    assert first["Location"] == again["Location"]
    assert IndividualSignature.objects.get().answers == {workplace.key: "1"}


def test_questions_cost_the_sign_post_no_query(letter) -> None:
    plain = OpenLetterFactory(individuals_may_sign=True)
    # This process's first signature reads its network-hash key; the rest do not.
    assert sign(plain, SIGNER | {"email": "warm@example.org"}).status_code == 302
    with CaptureQueriesContext(connection) as without:
        assert sign(plain, SIGNER).status_code == 302
    workplace, _speak = ask(letter, WORKPLACE, SPEAK)
    with CaptureQueriesContext(connection) as with_questions:
        assert sign(letter, SIGNER | {field(workplace): "1"}).status_code == 302
    assert len(with_questions.captured_queries) == len(without.captured_queries)
    inserts = [q["sql"] for q in with_questions.captured_queries if "INSERT" in q["sql"]]
    assert len(inserts) == 1


def test_the_service_and_the_database_refuse_answers_without_their_questions(letter) -> None:
    with pytest.raises(ValidationError):
        services.individual_signature_create(
            letter=letter, name="Ada", email="ada@example.org", answers={"q": "1"}
        )
    workplace, _speak = ask(letter, WORKPLACE, SPEAK)
    with pytest.raises(ValidationError):
        services.individual_signature_create(
            letter=letter, name="Ada", email="ada@example.org", answers={workplace.key: "7"}
        )
    assert not IndividualSignature.objects.exists()
    signature = signed(letter, "ada@example.org", {workplace.key: "1"})
    with pytest.raises(IntegrityError), transaction.atomic():
        IndividualSignature.objects.filter(pk=signature.pk).update(question_set=None)


# --- Where answers go --------------------------------------------------------------------------


def test_the_dashboard_counts_confirmed_unheld_answers(letter) -> None:
    workplace, speak = ask(letter, WORKPLACE, SPEAK)
    yesterday = timezone.now() - timedelta(days=1)
    confirmed = {"status": "confirmed", "confirmed_at": yesterday}
    signed(letter, "a@example.org", {workplace.key: "1", speak.key: True}, **confirmed)
    signed(letter, "b@example.org", {workplace.key: "1"}, **confirmed)
    signed(letter, "c@example.org", {workplace.key: "2", speak.key: False}, **confirmed)
    signed(letter, "d@example.org", {workplace.key: "1", speak.key: True}, **confirmed)
    signed(letter, "f@example.org", {workplace.key: "1", speak.key: True}, **confirmed)
    signed(letter, "held@example.org", {workplace.key: "3"}, held=True, **confirmed)
    signed(letter, "pending@example.org", {workplace.key: "3"})
    # Another letter's signers never count here.
    other = OpenLetterFactory(individuals_may_sign=True)
    (other_workplace,) = ask(other, WORKPLACE)
    signed(other, "x@example.org", {other_workplace.key: "3"}, **confirmed)

    organization = OrganizationFactory()
    board = dashboard.letter_dashboard_get(organization=organization, letter=letter)
    tallies = {tally.question: tally for tally in board.question_tallies}
    assert set(tallies) == {"Where do you work?", "May we ask you to speak to the press?"}
    place = tallies["Where do you work?"]
    assert [(bar.label, bar.count) for bar in place.series.bars] == [
        ("University", 4),
        ("Company", 1),
        ("Public office", 0),
    ]
    assert place.answered == 5
    # Counts under five are never shown, to organizations that also see who signed.
    assert place.rows == [("University", None), ("Company", None), ("Public office", None)]
    speaking = tallies["May we ask you to speak to the press?"]
    assert [(bar.label, bar.count) for bar in speaking.series.bars] == [("yes", 3), ("no", 1)]


def test_the_lead_organizations_dashboard_shows_counts_and_no_one(client) -> None:
    organization = OrganizationFactory()
    letter = OpenLetterFactory(leads=[organization], individuals_may_sign=True)
    (workplace,) = ask(letter, WORKPLACE)
    signed(
        letter,
        "a@example.org",
        {workplace.key: "2"},
        status="confirmed",
        confirmed_at=timezone.now(),
    )
    viewer = MembershipFactory(organization=organization, role=Membership.Role.VIEWER).user
    client.force_login(viewer)
    page = client.get(
        reverse(
            "letter_dashboards:dashboard",
            kwargs={"organization": organization.slug, "slug": letter.slug},
        )
    ).content.decode()
    assert "Answers to your questions" in page
    # Signed today, and one: not counted yet, and the answer reads "fewer than 5".
    assert "Where do you work? (0 answered)" in page
    assert "fewer than 5" in page
    assert "a@example.org" not in page and "Rosa Chen" not in page


def test_a_signer_downloads_their_answers(letter) -> None:
    workplace, speak = ask(letter, WORKPLACE, SPEAK)
    signature = signed(letter, "a@example.org", {workplace.key: "3", speak.key: False})
    (record,) = personal_data_export(canonical_email=signature.canonical_email)["records"]
    assert record["answers"] == [
        {"question": "Where do you work?", "answer": "Public office"},
        {"question": "May we ask you to speak to the press?", "answer": "no"},
    ]


def test_retention_removes_the_answers_with_the_name(letter) -> None:
    (workplace,) = ask(letter, WORKPLACE)
    signature = signed(
        letter,
        "a@example.org",
        {workplace.key: "1"},
        status="confirmed",
        confirmed_at=timezone.now(),
    )
    OpenLetter.objects.filter(pk=letter.pk).update(
        status=OpenLetter.Status.CLOSED, closed_at=timezone.now() - timedelta(days=400)
    )
    assert personal_data_anonymize_expired().anonymized["letter"] == 1
    signature.refresh_from_db()
    assert (signature.name, signature.answers, signature.question_set_id) == ("", {}, None)
    # The snapshot is no one's data and stays, for the letter and its other signers.
    assert QuestionSet.objects.filter(pk=letter.question_set_id).exists()


def test_withdrawing_deletes_the_answers(letter) -> None:
    (workplace,) = ask(letter, WORKPLACE)
    signature = signed(letter, "a@example.org", {workplace.key: "1"})
    from letters.personal_data import LetterSignatures

    assert LetterSignatures().withdraw(canonical_email=signature.canonical_email, pks=None) == 1
    assert not IndividualSignature.objects.exists()


def test_the_public_letter_and_api_never_show_answers(letter) -> None:
    (workplace,) = ask(letter, WORKPLACE)
    signed(
        letter,
        "a@example.org",
        {workplace.key: "3"},
        status="confirmed",
        confirmed_at=timezone.now(),
    )
    page = Client().get(letter.get_absolute_url()).content.decode()
    assert "Rosa Chen" in page
    # The question is on the form; the answer ("Public office") is nowhere but in its choices.
    assert page.count("Public office") == 1
    api = Client().get(reverse("api:letter", kwargs={"slug": letter.slug}))
    assert api.status_code == 200 and "Rosa Chen" in api.content.decode()
    assert "Public office" not in api.content.decode() and workplace.key not in api.content.decode()


def test_the_privacy_page_lists_a_letters_answers(client) -> None:
    html = client.get("/en/privacy/").content.decode()
    assert 'id="letter-answers"' in html
    assert "your answers to the letter's own questions" in html


# --- The admin ----------------------------------------------------------------------------------


def test_staff_see_a_signatures_answers_and_the_letters_questions_in_the_admin(letter) -> None:
    workplace, speak = ask(letter, WORKPLACE, SPEAK)
    signature = signed(letter, "a@example.org", {workplace.key: "2", speak.key: True})
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = staff.get(
        reverse("admin:letters_individualsignature_change", args=[signature.pk])
    ).content.decode()
    assert "Where do you work?: Company; May we ask you to speak to the press?: yes" in page
    letter_page = staff.get(reverse("admin:letters_openletter_change", args=[letter.pk]))
    assert letter_page.status_code == 200
    html = letter_page.content.decode()
    assert 'name="questions-TOTAL_FORMS" value="2"' in html
    assert "Where do you work?" in html


def test_staff_add_a_letters_questions_in_the_admin_and_signers_answer_them(letter) -> None:
    from tests.admin_forms import admin_edit, assert_saved

    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    question = {
        "questions-TOTAL_FORMS": ["1"],
        "questions-0-kind": ["single"],
        "questions-0-label_en": ["Where do you work?"],
        "questions-0-label_it": ["Dove lavori?"],
        "questions-0-choices_en": ["University\nCompany"],
        "questions-0-choices_it": ["Università"],
        "questions-0-required": ["on"],
        "questions-0-position": ["0"],
        "questions-0-max_length": ["200"],
    }
    refused = admin_edit(staff, letter, question)
    assert refused.status_code == 200
    assert "Give the same choices in every language" in refused.content.decode()
    assert not Question.objects.exists()
    assert_saved(
        admin_edit(staff, letter, question | {"questions-0-choices_it": ["Università\nAzienda"]})
    )
    saved = Question.objects.get()
    assert saved.key and saved.letter_id == letter.pk and saved.petition_id is None
    letter.refresh_from_db()
    assert letter.question_set is not None
    assert letter.question_set.questions[0]["choices"][1] == {"en": "Company", "it": "Azienda"}
    assert sign(letter, SIGNER | {field(saved): "2"}).status_code == 302
    assert IndividualSignature.objects.get().answers == {saved.key: "2"}
