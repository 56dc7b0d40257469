"""A petition's own sign-form questions (petitions.questions, petitions.services.questions): the
snapshots signers answer, the sign form's fields and messages, the answers through the one-
statement sign path, and where answers go: the staff export, the organization API, dashboards'
tallies, a signer's own data, and retention."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.api_tokens import api_token_create
from accounts.models import ApiToken, Membership
from mechanisms.personal_data import personal_data_anonymize_expired, personal_data_export
from petitions import services
from petitions.exports import petition_signatures_csv
from petitions.models import (
    Petition,
    Question,
    QuestionKind,
    QuestionSet,
    Signature,
    SponsorOptIn,
)
from petitions.question_tallies import question_tallies
from petitions.questions import answers_validate
from petitions.services.questions import question_set_publish
from tests.factories import MembershipFactory, OrganizationFactory, PetitionFactory

pytestmark = pytest.mark.django_db

SIGNER = {"name": "Maria Rossi", "email": "maria@example.org", "display": "short"}

TRAVEL = {
    "kind": QuestionKind.SINGLE,
    "label_en": "How do you get to work?",
    "label_it": "Come vai al lavoro?",
    "choices_en": "Bus\nBike\nCar",
    "choices_it": "Autobus\nBici\nAuto",
    "required": True,
}
RESIDENT = {
    "kind": QuestionKind.YES_NO,
    "label_en": "Do you live in the city?",
    "label_it": "Vivi in città?",
}
CAMERAS = {
    "kind": QuestionKind.NUMBER,
    "label_en": "Cameras on your street",
    "min_value": 0,
    "max_value": 50,
}
WHY = {"kind": QuestionKind.TEXT, "label_en": "Your street", "max_length": 40}
TOPICS = {
    "kind": QuestionKind.MULTIPLE,
    "label_en": "What worries you?",
    "choices_en": "Faces\nPlates\nVoices",
}


def ask(petition: Petition, *specs: dict[str, Any]) -> list[Question]:
    """Give the petition these questions (replacing any) and publish them, as the admin does."""
    Question.objects.filter(petition=petition).delete()
    made = []
    for position, spec in enumerate(specs):
        question = Question(petition=petition, key=f"q{position}x{petition.pk}", position=position)
        for name, value in spec.items():
            setattr(question, name, value)
        question.save()
        made.append(question)
    question_set_publish(petition_id=petition.pk)
    petition.refresh_from_db()
    return made


def field(question: Question) -> str:
    return f"question_{question.key}"


def sign(petition: Petition, data: dict[str, Any], *, language: str = "en") -> Any:
    return Client().post(
        reverse("petitions:sign", kwargs={"slug": petition.slug}).replace("/en/", f"/{language}/"),
        data,
    )


def export(petition: Petition) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(petition_signatures_csv(petition_id=petition.pk)))))


# --- Snapshots ---------------------------------------------------------------------------------


def test_publishing_makes_one_snapshot_per_distinct_set_of_questions(petition) -> None:
    travel, _resident = ask(petition, TRAVEL, RESIDENT)
    first = petition.question_set
    assert first is not None
    assert [q["key"] for q in first.questions] == [travel.key, _resident.key]
    assert first.questions[0]["choices"][1] == {"en": "Bike", "it": "Bici"}
    # Publishing the same questions again points at the same row.
    assert question_set_publish(petition_id=petition.pk) == first
    Question.objects.filter(pk=travel.pk).update(label_en="How do you commute?")
    second = question_set_publish(petition_id=petition.pk)
    assert second is not None and second.pk != first.pk
    # The first snapshot is never rewritten.
    first.refresh_from_db()
    assert first.questions[0]["label"]["en"] == "How do you get to work?"
    Question.objects.filter(petition=petition).delete()
    assert question_set_publish(petition_id=petition.pk) is None
    petition.refresh_from_db()
    assert petition.question_set is None


def test_answers_are_checked_against_their_snapshot(petition) -> None:
    travel, resident, cameras, why, topics = ask(petition, TRAVEL, RESIDENT, CAMERAS, WHY, TOPICS)
    snapshot = petition.question_set
    stored = answers_validate(
        question_set=snapshot,
        answers={travel.key: "2", resident.key: False, topics.key: ["3", "1"], cameras.key: 4},
    )
    # Several choices are kept in the order offered; unanswered questions are left out.
    assert stored == {travel.key: "2", resident.key: False, topics.key: ["1", "3"], cameras.key: 4}
    for wrong in (
        {travel.key: "4"},
        {travel.key: "1", cameras.key: 51},
        {travel.key: "1", cameras.key: True},
        {travel.key: "1", why.key: "x" * 41},
        {travel.key: "1", resident.key: "yes"},
        {travel.key: "1", topics.key: ["9"]},
        {travel.key: "1", "elsewhere": "1"},
        {resident.key: True},  # the required one unanswered
    ):
        with pytest.raises(ValidationError):
            answers_validate(question_set=snapshot, answers=wrong)
    with pytest.raises(ValidationError):
        answers_validate(question_set=None, answers={"anything": "1"})


def test_a_choice_question_needs_its_choices_in_line_in_every_language(petition) -> None:
    from petitions.services.questions import question_check

    for spec, field_name in (
        ({**TRAVEL, "choices_en": "Bus"}, "choices_en"),
        ({**TRAVEL, "choices_it": "Autobus\nBici"}, "choices_it"),
        ({**CAMERAS, "min_value": 10, "max_value": 2}, "max_value"),
    ):
        question = Question(petition=petition, **spec)
        with pytest.raises(ValidationError) as refused:
            question_check(question=question)
        assert field_name in refused.value.message_dict


# --- The sign form and the sign path ------------------------------------------------------------


def test_signing_stores_the_answers_with_the_questions_as_they_were(petition) -> None:
    travel, resident = ask(petition, TRAVEL, RESIDENT)
    response = sign(petition, SIGNER | {field(travel): "2", field(resident): "yes"})
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert signature.answers == {travel.key: "2", resident.key: True}
    assert signature.question_set == petition.question_set


def test_the_form_shows_the_questions_in_the_readers_language(client, petition) -> None:
    ask(petition, TRAVEL, RESIDENT)
    english = client.get(petition.get_absolute_url()).content.decode()
    assert "How do you get to work?" in english and "Bike" in english
    italian = client.get(petition.get_absolute_url().replace("/en/", "/it/")).content.decode()
    assert "Come vai al lavoro?" in italian and "Bici" in italian


def test_a_refused_form_says_why_and_keeps_what_was_typed(petition) -> None:
    travel, _resident, cameras, why = ask(petition, TRAVEL, RESIDENT, CAMERAS, WHY)
    response = sign(
        petition, SIGNER | {field(cameras): "99", field(why): "Via Roma", field(travel): ""}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please answer this question." in html
    assert "Ensure this value is less than or equal to 50." in html
    assert 'value="Via Roma"' in html and 'value="Maria Rossi"' in html
    assert not Signature.objects.exists()


def test_an_optional_question_may_be_left_empty(petition) -> None:
    travel, _resident, _cameras = ask(petition, TRAVEL, RESIDENT, CAMERAS)
    assert sign(petition, SIGNER | {field(travel): "1"}).status_code == 302
    assert Signature.objects.get().answers == {travel.key: "1"}


def test_signing_again_changes_no_answer_and_answers_the_same(petition) -> None:
    travel, resident = ask(petition, TRAVEL, RESIDENT)
    first = sign(petition, SIGNER | {field(travel): "1", field(resident): "no"})
    again = sign(petition, SIGNER | {field(travel): "3", field(resident): "yes"})
    assert (first.status_code, first["Location"]) == (again.status_code, again["Location"])
    assert Signature.objects.get().answers == {travel.key: "1", resident.key: False}


def test_questions_cost_the_sign_post_no_query(petition) -> None:
    plain = PetitionFactory()
    # This process's first signature reads its network-hash key; the rest do not.
    assert sign(plain, SIGNER | {"email": "warm@example.org"}).status_code == 302
    with CaptureQueriesContext(connection) as without:
        assert sign(plain, SIGNER).status_code == 302
    travel, _resident = ask(petition, TRAVEL, RESIDENT)
    with CaptureQueriesContext(connection) as with_questions:
        response = sign(petition, SIGNER | {"email": "b@example.org", field(travel): "1"})
        assert response.status_code == 302
    assert len(with_questions.captured_queries) == len(without.captured_queries)
    # Still one statement for the signature and its email.
    inserts = [q["sql"] for q in with_questions.captured_queries if "INSERT" in q["sql"]]
    assert len(inserts) == 1


def test_the_service_refuses_answers_to_questions_not_asked(petition) -> None:
    with pytest.raises(ValidationError):
        services.signature_create(
            petition=petition, name="Ada", email="ada@example.org", answers={"q": "1"}
        )
    assert not Signature.objects.exists()


def test_the_database_refuses_answers_without_their_questions(petition) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(
            petition=petition, name="Ada", email="a@example.org", answers={"q": "1"}
        )


# --- Where answers go ---------------------------------------------------------------------------


def _signed(petition: Petition, email: str, answers: dict[str, Any], **fields: Any) -> Signature:
    signature_id = services.signature_create(
        petition=petition, name="Rosa Chen", email=email, answers=answers
    )
    Signature.objects.filter(pk=signature_id).update(**fields)
    return Signature.objects.get(pk=signature_id)


def test_the_export_has_a_column_per_question_and_keeps_removed_ones(petition) -> None:
    travel, resident = ask(petition, TRAVEL, RESIDENT)
    _signed(petition, "a@example.org", {travel.key: "2", resident.key: True})
    # The petition drops the yes-or-no question and rewords the choices.
    ask(petition, {**TRAVEL, "choices_en": "Train\nFoot\nCar"})
    _signed(petition, "b@example.org", {travel.key: "1"})
    _signed(petition, "c@example.org", {travel.key: "3"})
    header, *rows = export(petition)
    assert header[-2:] == ["How do you get to work?", "Do you live in the city? (no longer asked)"]
    # Each answer in the words its signer saw.
    assert [row[-2:] for row in rows] == [["Bike", "yes"], ["Train", ""], ["Car", ""]]


def test_typed_answers_reach_the_spreadsheet_as_text(petition) -> None:
    (why,) = ask(petition, WHY)
    _signed(petition, "a@example.org", {why.key: "=HYPERLINK(1)"})
    _header, row = export(petition)
    assert row[-1] == "'=HYPERLINK(1)"


def test_an_export_without_questions_is_unchanged(petition) -> None:
    _signed(petition, "a@example.org", {})
    header, _row = export(petition)
    assert header[-1] == "Consents to updates"


def test_the_organization_api_gives_the_answers_of_its_supporters(petition) -> None:
    organization = OrganizationFactory()
    other = OrganizationFactory()
    petition.sponsors.add(organization)
    admin = MembershipFactory(organization=organization, role=Membership.Role.ADMIN).user
    outsider_admin = MembershipFactory(organization=other, role=Membership.Role.ADMIN).user
    travel, resident = ask(petition, TRAVEL, RESIDENT)
    confirmed = {"status": Signature.Status.CONFIRMED, "confirmed_at": petition.created_at}
    signature = _signed(
        petition, "a@example.org", {travel.key: "2", resident.key: False}, **confirmed
    )
    SponsorOptIn.objects.create(signature=signature, organization=organization)
    # Someone who did not opt in to this organization: never read through its token.
    _signed(petition, "b@example.org", {travel.key: "3"}, **confirmed)
    key = api_token_create(
        organization=organization, user=admin, name="CRM", scope=ApiToken.Scope.READ_SUPPORTERS
    )[1]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    body = Client().get(f"/api/v1/osdi/petitions/{petition.pk}/signatures/", **headers).json()
    answers = [s["custom_fields"] for s in body["_embedded"]["osdi:signatures"]]
    assert answers == [{travel.key: "Bike", resident.key: "no"}]
    asked = Client().get(f"/api/v1/osdi/petitions/{petition.pk}/", **headers).json()
    assert [q["key"] for q in asked["custom_fields"]["questions"]] == [travel.key, resident.key]
    # Another organization's token does not reach this petition.
    other_key = api_token_create(
        organization=other,
        user=outsider_admin,
        name="CRM",
        scope=ApiToken.Scope.READ_SUPPORTERS,
    )[1]
    refused = Client().get(
        f"/api/v1/osdi/petitions/{petition.pk}/signatures/",
        HTTP_AUTHORIZATION=f"Bearer {other_key}",
    )
    assert refused.status_code == 404


def test_the_dashboard_tallies_confirmed_answers_only(client, petition) -> None:
    from datetime import timedelta

    from django.utils import timezone

    travel, resident, topics = ask(petition, TRAVEL, RESIDENT, TOPICS)
    organization = OrganizationFactory()
    petition.sponsors.add(organization)

    def supporter(signature: Signature) -> None:
        SponsorOptIn.objects.create(signature=signature, organization=organization)

    yesterday = timezone.now() - timedelta(days=1)
    confirmed = {"status": Signature.Status.CONFIRMED, "confirmed_at": yesterday}
    supporter(
        _signed(petition, "a@example.org", {travel.key: "2", topics.key: ["1", "2"]}, **confirmed)
    )
    supporter(
        _signed(petition, "b@example.org", {travel.key: "2", resident.key: True}, **confirmed)
    )
    supporter(_signed(petition, "c@example.org", {travel.key: "1", topics.key: ["1"]}, **confirmed))
    for email in ("f@example.org", "g@example.org", "h@example.org", "i@example.org"):
        supporter(_signed(petition, email, {travel.key: "2", topics.key: ["1"]}, **confirmed))
    for email in ("j@example.org", "k@example.org", "l@example.org"):
        supporter(_signed(petition, email, {travel.key: "1"}, **confirmed))
    _signed(petition, "d@example.org", {travel.key: "3", resident.key: False})  # pending
    supporter(_signed(petition, "e@example.org", {travel.key: "3"}, held=True, **confirmed))
    # A signer who did not opt in to this sponsor is not in its tallies.
    _signed(petition, "m@example.org", {travel.key: "3"}, **confirmed)
    tallies = {
        tally.key: tally for tally in question_tallies(petition=petition, organization=organization)
    }
    # Ten confirmed, unheld signers answered before today: all counted.
    assert tallies[travel.key].series.periods == [("Bus", 4), ("Bike", 6), ("Car", 0)]
    assert tallies[travel.key].answered == 10
    # Bus and Car are under five; Bike alone is shown.
    assert tallies[travel.key].rows == [("Bus", None), ("Bike", 6), ("Car", None)]
    assert tallies[resident.key].series.periods == [("yes", 1), ("no", 0)]
    assert tallies[resident.key].rows == [("yes", None), ("no", None)]
    assert tallies[topics.key].series.periods == [("Faces", 6), ("Plates", 1), ("Voices", 0)]
    assert tallies[topics.key].answered == 6

    viewer = MembershipFactory(organization=organization, role=Membership.Role.VIEWER).user
    client.force_login(viewer)
    page = client.get(
        reverse(
            "petition_dashboards:dashboard",
            kwargs={"organization": organization.slug, "slug": petition.slug},
        )
    ).content.decode()
    assert "Answers to your questions" in page
    assert "How do you get to work? (10 answered)" in page
    assert "fewer than 5" in page
    assert "a@example.org" not in page


def test_a_signer_sees_and_downloads_their_answers(petition) -> None:
    travel, resident = ask(petition, TRAVEL, RESIDENT)
    signature = _signed(petition, "a@example.org", {travel.key: "2", resident.key: True})
    data = personal_data_export(canonical_email=signature.canonical_email)
    (record,) = data["records"]
    assert record["answers"] == [
        {"question": "How do you get to work?", "answer": "Bike"},
        {"question": "Do you live in the city?", "answer": "yes"},
    ]


def test_retention_removes_the_answers_with_the_rest(petition) -> None:
    from datetime import timedelta

    from django.utils import timezone

    travel, resident = ask(petition, TRAVEL, RESIDENT)
    signature = _signed(
        petition,
        "a@example.org",
        {travel.key: "2", resident.key: True},
        status=Signature.Status.CONFIRMED,
        confirmed_at=timezone.now(),
    )
    Petition.objects.filter(pk=petition.pk).update(
        status=Petition.Status.CLOSED, closed_at=timezone.now() - timedelta(days=400)
    )
    personal_data_anonymize_expired()
    signature.refresh_from_db()
    assert signature.anonymized_at is not None
    assert (signature.answers, signature.question_set_id) == ({}, None)
    # The snapshot itself is no one's data and stays, for the other signers' answers.
    assert QuestionSet.objects.filter(pk=petition.question_set_id).exists()


def test_the_privacy_page_lists_the_answers(client) -> None:
    html = client.get("/en/privacy/").content.decode()
    assert "Your answers to a campaign's own questions on its sign form" in html
    assert "Your answers to a campaign's own questions are deleted" in html


# --- The admin ----------------------------------------------------------------------------------


def test_staff_add_questions_in_the_admin_and_signers_answer_them(editor_client, petition) -> None:
    from tests.admin_forms import admin_edit, assert_saved

    question = {
        "questions-TOTAL_FORMS": ["1"],
        "questions-0-kind": ["single"],
        "questions-0-label_en": ["How do you get to work?"],
        "questions-0-label_it": ["Come vai al lavoro?"],
        "questions-0-choices_en": ["Bus\nBike"],
        "questions-0-choices_it": ["Autobus"],
        "questions-0-required": ["on"],
        "questions-0-position": ["0"],
        "questions-0-max_length": ["200"],
    }
    refused = admin_edit(editor_client, petition, question)
    assert refused.status_code == 200
    assert "Give the same choices in every language" in refused.content.decode()
    assert not Question.objects.exists()
    assert_saved(
        admin_edit(
            editor_client, petition, question | {"questions-0-choices_it": ["Autobus\nBici"]}
        )
    )
    saved = Question.objects.get()
    assert saved.key
    petition.refresh_from_db()
    assert petition.question_set is not None
    assert petition.question_set.questions[0]["choices"][1] == {"en": "Bike", "it": "Bici"}
    assert sign(petition, SIGNER | {field(saved): "2"}).status_code == 302
    assert Signature.objects.get().answers == {saved.key: "2"}


def test_moderators_read_the_answers_on_the_signature_page(client, moderator, petition) -> None:
    client.force_login(moderator)
    travel, resident = ask(petition, TRAVEL, RESIDENT)
    signature = _signed(petition, "a@example.org", {travel.key: "2", resident.key: True})
    page = client.get(reverse("admin:petitions_signature_change", args=[signature.pk]))
    html = page.content.decode()
    assert "How do you get to work?: Bike; Do you live in the city?: yes" in html
    # Shown, never a field anyone could post.
    assert 'name="answers"' not in html
