"""The workspace page of a draft's sign-form questions (petitions.drafting.question_views): its
editors add, change and remove questions while the draft is editable; every other door is shut
with nothing written: other organizations and strangers get a 404 (or the login page), members
without the editor's role a 403, a draft with staff or a published petition a refusal.

Each boundary test runs twice, with each organization of the pair as the owner."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from accounts.models import Membership, Organization, User
from petitions.models import Petition, Question, QuestionSet
from tests.factories import OrganizationFactory, PetitionFactory

PASSWORD = "a long enough password 42"

QUESTION = {
    "kind": "single",
    "label_en": "How do you get to work?",
    "label_it": "Come vai al lavoro?",
    "choices_en": "Bus\nBike",
    "choices_it": "Autobus\nBici",
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


def _url(organization: Organization, petition: Petition, end: str = "") -> str:
    return f"/en/organizations/{organization.slug}/campaigns/petition/{petition.pk}/questions/{end}"


def _written() -> dict[str, Any]:
    return {
        "questions": list(
            Question.objects.order_by("pk").values_list(
                "pk", "petition", "kind", "label_en", "choices_en", "required"
            )
        ),
        "sets": QuestionSet.objects.count(),
        "petitions": list(Petition.objects.order_by("pk").values_list("pk", "question_set")),
    }


@pytest.fixture(params=["first-owns", "second-owns"])
def sides(request: pytest.FixtureRequest, db: None) -> tuple[Organization, Organization]:
    first = OrganizationFactory(name="Oakland Privacy", slug="oakland-privacy")
    second = OrganizationFactory(name="Fight for the Future", slug="fight-for-the-future")
    return (first, second) if request.param == "first-owns" else (second, first)


def _draft(organization: Organization, **fields: Any) -> Petition:
    return PetitionFactory(
        organization=organization,
        review=fields.pop("review", "editing"),
        status=fields.pop("status", Petition.Status.DRAFT),
        **fields,
    )


def test_an_editor_adds_changes_and_removes_questions(sides) -> None:
    owner, _other = sides
    petition = _draft(owner)
    editor = _member(owner)
    assert editor.get(_url(owner, petition)).status_code == 200
    added = editor.post(_url(owner, petition), QUESTION)
    assert added.status_code == 302
    question = Question.objects.get()
    petition.refresh_from_db()
    assert petition.question_set is not None
    assert petition.question_set.questions[0]["label"] == {
        "en": "How do you get to work?",
        "it": "Come vai al lavoro?",
    }
    page = editor.get(_url(owner, petition)).content.decode()
    assert "How do you get to work?" in page
    assert "The sign form asks no question of its own." not in page

    changed = editor.post(
        _url(owner, petition, f"{question.pk}/"), QUESTION | {"label_en": "How do you commute?"}
    )
    assert changed.status_code == 302
    question.refresh_from_db()
    assert question.label_en == "How do you commute?"
    first_set = petition.question_set_id
    petition.refresh_from_db()
    assert petition.question_set_id != first_set
    # The key stays: answers given before the change keep their column.
    assert petition.question_set.questions[0]["key"] == question.key

    removed = editor.post(_url(owner, petition, f"{question.pk}/remove/"))
    assert removed.status_code == 302
    assert not Question.objects.exists()
    petition.refresh_from_db()
    assert petition.question_set is None
    # The snapshots signers may have answered stay.
    assert QuestionSet.objects.count() == 2


def test_a_refused_question_says_why_and_keeps_what_was_typed(sides) -> None:
    owner, _other = sides
    petition = _draft(owner)
    editor = _member(owner)
    refused = editor.post(_url(owner, petition), QUESTION | {"choices_it": "Autobus"})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "Give the same choices in every language" in html
    assert "How do you get to work?" in html and "Come vai al lavoro?" in html
    assert _written()["questions"] == []
    missing = editor.post(_url(owner, petition), QUESTION | {"label_en": ""})
    assert missing.status_code == 400
    assert "This field is required." in missing.content.decode()
    numbers = editor.post(
        _url(owner, petition),
        QUESTION | {"kind": "number", "min_value": "10", "max_value": "2"},
    )
    assert numbers.status_code == 400
    assert "The largest number must not be below the smallest." in numbers.content.decode()
    assert not Question.objects.exists() and not QuestionSet.objects.exists()


def test_other_organizations_and_strangers_reach_nothing(sides) -> None:
    owner, other = sides
    petition = _draft(owner)
    question = Question.objects.create(
        petition=petition, key="qowned", kind="text", label_en="Your street"
    )
    before = _written()
    outsider = _member(other)
    stranger = Client()
    stranger.force_login(User.objects.create_user("nobody@example.org", PASSWORD))
    urls = [
        _url(owner, petition),
        _url(owner, petition, f"{question.pk}/"),
        _url(owner, petition, f"{question.pk}/remove/"),
        # Their own workspace, the owner's petition.
        _url(other, petition),
        _url(other, petition, f"{question.pk}/"),
        _url(other, petition, f"{question.pk}/remove/"),
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


def test_a_question_of_another_petition_is_not_found_through_this_one(sides) -> None:
    owner, other = sides
    mine = _draft(owner)
    theirs = _draft(other)
    question = Question.objects.create(petition=theirs, key="qtheirs", kind="text", label_en="X")
    before = _written()
    editor = _member(owner)
    assert editor.get(_url(owner, mine, f"{question.pk}/")).status_code == 404
    assert editor.post(_url(owner, mine, f"{question.pk}/"), QUESTION).status_code == 404
    assert editor.post(_url(owner, mine, f"{question.pk}/remove/")).status_code == 404
    assert _written() == before


@pytest.mark.parametrize("role", ["viewer", "steward"])
def test_members_without_the_editors_role_are_refused(sides, role) -> None:
    owner, _other = sides
    if role not in Membership.Role.values:
        pytest.fail(f"no role {role}: the roles are {Membership.Role.values}")
    petition = _draft(owner)
    question = Question.objects.create(petition=petition, key="qowned", kind="text", label_en="X")
    before = _written()
    member = _member(owner, role)
    assert member.get(_url(owner, petition)).status_code == 403
    assert member.post(_url(owner, petition), QUESTION).status_code == 403
    assert member.post(_url(owner, petition, f"{question.pk}/"), QUESTION).status_code == 403
    assert member.post(_url(owner, petition, f"{question.pk}/remove/")).status_code == 403
    assert _written() == before


@pytest.mark.parametrize(
    ("review", "status"),
    [("submitted", Petition.Status.DRAFT), ("approved", Petition.Status.OPEN)],
)
def test_a_draft_with_staff_or_published_keeps_its_questions(sides, review, status) -> None:
    owner, _other = sides
    fields: dict[str, Any] = {"review": review, "status": status}
    if review == "submitted":
        from django.utils import timezone

        fields["submitted_at"] = timezone.now()
    petition = _draft(owner, **fields)
    question = Question.objects.create(petition=petition, key="qowned", kind="text", label_en="X")
    before = _written()
    editor = _member(owner)
    page = editor.get(_url(owner, petition))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="questions-locked"' in html and "Add the question" not in html
    refused = editor.post(_url(owner, petition), QUESTION)
    assert refused.status_code == 409
    assert "cannot be changed now" in refused.content.decode()
    assert editor.post(_url(owner, petition, f"{question.pk}/"), QUESTION).status_code == 409
    removed = editor.post(_url(owner, petition, f"{question.pk}/remove/"))
    assert removed.status_code == 302
    assert any("cannot be changed now" in str(m) for m in get_messages(removed.wsgi_request))
    assert _written() == before


def test_the_campaign_page_links_to_its_questions(sides) -> None:
    owner, _other = sides
    petition = _draft(owner)
    page = (
        _member(owner)
        .get(f"/en/organizations/{owner.slug}/campaigns/petition/{petition.pk}/")
        .content.decode()
    )
    assert f'href="{_url(owner, petition)}"' in page
