"""The workspace questions page for a draft open letter (petitions.drafting.question_views with
the kind "letter"): the lead organization's editors add, change and remove the questions its
individual signers are asked while the draft is editable; every other door is shut with nothing
written: other organizations and strangers get a 404 (or the login page), members without the
editor's role a 403, a draft with staff or a letter open for signatures a refusal.

Each boundary test runs twice, with each organization of the pair as the owner."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, Organization, User
from letters.models import OpenLetter
from petitions.models import Petition, Question, QuestionSet
from tests.factories import OpenLetterFactory, OrganizationFactory, PetitionFactory

PASSWORD = "a long enough password 42"

QUESTION = {
    "kind": "single",
    "label_en": "Where do you work?",
    "label_it": "Dove lavori?",
    "choices_en": "University\nCompany",
    "choices_it": "Università\nAzienda",
    "required": "on",
    "position": "0",
    "min_value": "",
    "max_value": "",
    "max_length": "200",
}


def _member(organization: Organization, role: str = "editor") -> Client:
    user = User.objects.create_user(f"{role}@{organization.slug}.example", PASSWORD)
    Membership.objects.create(user=user, organization=organization, role=role)
    client = Client()
    client.force_login(user)
    return client


def _url(organization: Organization, letter: OpenLetter, end: str = "") -> str:
    return f"/en/organizations/{organization.slug}/campaigns/letter/{letter.pk}/questions/{end}"


def _written() -> dict[str, Any]:
    return {
        "questions": list(
            Question.objects.order_by("pk").values_list(
                "pk", "petition", "letter", "kind", "label_en", "choices_en", "required"
            )
        ),
        "sets": QuestionSet.objects.count(),
        "letters": list(OpenLetter.objects.order_by("pk").values_list("pk", "question_set")),
    }


@pytest.fixture(params=["first-owns", "second-owns"])
def sides(request: pytest.FixtureRequest, db: None) -> tuple[Organization, Organization]:
    first = OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy")
    second = OrganizationFactory(name="Fight for the Future", slug="fight-for-the-future")
    return (first, second) if request.param == "first-owns" else (second, first)


def _draft(organization: Organization, **fields: Any) -> OpenLetter:
    return OpenLetterFactory(
        organization=organization,
        leads=[organization],
        individuals_may_sign=True,
        review=fields.pop("review", "editing"),
        status=fields.pop("status", OpenLetter.Status.DRAFT),
        **fields,
    )


def test_an_editor_adds_changes_and_removes_a_letters_questions(sides) -> None:
    owner, _other = sides
    letter = _draft(owner)
    # A petition's questions are another owner's: the letter's page never lists them.
    Question.objects.create(
        petition=PetitionFactory(organization=owner), key="qpet", kind="text", label_en="Street"
    )
    editor = _member(owner)
    page = editor.get(_url(owner, letter))
    assert page.status_code == 200
    assert "Street" not in page.content.decode()
    assert editor.post(_url(owner, letter), QUESTION).status_code == 302
    question = Question.objects.get(letter=letter)
    assert question.petition_id is None
    letter.refresh_from_db()
    assert letter.question_set is not None
    assert letter.question_set.questions[0]["choices"][0] == {
        "en": "University",
        "it": "Università",
    }

    changed = editor.post(
        _url(owner, letter, f"{question.pk}/"), QUESTION | {"label_en": "Who employs you?"}
    )
    assert changed.status_code == 302
    first_set = letter.question_set_id
    letter.refresh_from_db()
    assert letter.question_set_id != first_set
    assert letter.question_set.questions[0]["key"] == question.key

    assert editor.post(_url(owner, letter, f"{question.pk}/remove/")).status_code == 302
    assert not Question.objects.filter(letter=letter).exists()
    letter.refresh_from_db()
    assert letter.question_set is None


def test_a_refused_question_keeps_what_was_typed_and_writes_nothing(sides) -> None:
    owner, _other = sides
    letter = _draft(owner)
    before = _written()
    refused = _member(owner).post(_url(owner, letter), QUESTION | {"choices_it": "Università"})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "Give the same choices in every language" in html
    assert "Where do you work?" in html and "Dove lavori?" in html
    assert _written() == before


def test_other_organizations_and_strangers_reach_nothing(sides) -> None:
    owner, other = sides
    letter = _draft(owner)
    question = Question.objects.create(letter=letter, key="qowned", kind="text", label_en="X")
    before = _written()
    outsider = _member(other)
    stranger = Client()
    stranger.force_login(User.objects.create_user("nobody@example.org", PASSWORD))
    urls = [
        _url(owner, letter),
        _url(owner, letter, f"{question.pk}/"),
        _url(owner, letter, f"{question.pk}/remove/"),
        _url(other, letter),
        _url(other, letter, f"{question.pk}/"),
        _url(other, letter, f"{question.pk}/remove/"),
        # No such kind of campaign.
        f"/en/organizations/{owner.slug}/campaigns/poll/{letter.pk}/questions/",
    ]
    for client in (outsider, stranger):
        for url in urls:
            if not url.endswith("/remove/"):
                assert client.get(url).status_code == 404, url
            assert client.post(url, QUESTION).status_code == 404, url
    anonymous = Client()
    for url in urls[:3]:
        answer = anonymous.post(url, QUESTION)
        assert answer.status_code == 302 and "/login/" in answer["Location"]
    assert _written() == before


def test_a_petitions_question_is_not_found_through_a_letter(sides) -> None:
    owner, _other = sides
    letter = _draft(owner)
    petition = PetitionFactory(organization=owner, review="editing", status=Petition.Status.DRAFT)
    question = Question.objects.create(petition=petition, key="qpet", kind="text", label_en="X")
    before = _written()
    editor = _member(owner)
    assert editor.get(_url(owner, letter, f"{question.pk}/")).status_code == 404
    assert editor.post(_url(owner, letter, f"{question.pk}/"), QUESTION).status_code == 404
    assert editor.post(_url(owner, letter, f"{question.pk}/remove/")).status_code == 404
    assert _written() == before


@pytest.mark.parametrize("role", ["viewer", "steward"])
def test_members_without_the_editors_role_are_refused(sides, role) -> None:
    owner, _other = sides
    letter = _draft(owner)
    question = Question.objects.create(letter=letter, key="qowned", kind="text", label_en="X")
    before = _written()
    member = _member(owner, role)
    assert member.get(_url(owner, letter)).status_code == 403
    assert member.post(_url(owner, letter), QUESTION).status_code == 403
    assert member.post(_url(owner, letter, f"{question.pk}/"), QUESTION).status_code == 403
    assert member.post(_url(owner, letter, f"{question.pk}/remove/")).status_code == 403
    assert _written() == before


@pytest.mark.parametrize(
    ("review", "status"),
    [("submitted", OpenLetter.Status.DRAFT), ("approved", OpenLetter.Status.OPEN)],
)
def test_a_letter_with_staff_or_open_keeps_its_questions(sides, review, status) -> None:
    owner, _other = sides
    fields: dict[str, Any] = {"review": review, "status": status}
    if review == "submitted":
        fields["submitted_at"] = timezone.now()
    letter = _draft(owner, **fields)
    question = Question.objects.create(letter=letter, key="qowned", kind="text", label_en="X")
    before = _written()
    editor = _member(owner)
    page = editor.get(_url(owner, letter))
    assert page.status_code == 200
    assert 'id="questions-locked"' in page.content.decode()
    assert editor.post(_url(owner, letter), QUESTION).status_code == 409
    assert editor.post(_url(owner, letter, f"{question.pk}/"), QUESTION).status_code == 409
    assert editor.post(_url(owner, letter, f"{question.pk}/remove/")).status_code == 302
    assert _written() == before


def test_the_letters_campaign_page_links_to_its_questions(sides) -> None:
    owner, _other = sides
    letter = _draft(owner)
    page = (
        _member(owner)
        .get(f"/en/organizations/{owner.slug}/campaigns/letter/{letter.pk}/")
        .content.decode()
    )
    assert f'href="{_url(owner, letter)}"' in page
