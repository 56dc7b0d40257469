"""The edges of the thresholds page in the workspace, and of thresholds in the admin: who may
reach a petition's thresholds (its leading organizations' editors; staff), what every other
person gets, and that a refused change writes nothing and keeps what was typed."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Organization, User
from mechanisms.models import OutboundEmail
from petitions.models import (
    Petition,
    PetitionInvitation,
    Threshold,
    ThresholdRequest,
)
from petitions.services import counting, threshold_answers
from petitions.thresholds import emails as threshold_emails
from tests.factories import OrganizationFactory, PetitionFactory, SignatureFactory, TargetFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough password 42"


def _member(organization: Organization, role: str = "editor") -> User:
    user = User.objects.create_user(f"{role}@{organization.slug}.example", PASSWORD)
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _url(organization: Organization, petition: Petition) -> str:
    return reverse(
        "drafting:thresholds", kwargs={"organization": organization.slug, "pk": petition.pk}
    )


def _led(organization: Organization, **fields: Any) -> Petition:
    petition = PetitionFactory(organization=organization, review="approved", **fields)
    petition.sponsors.add(organization)
    return petition


def _snapshot() -> tuple:
    return (
        sorted(
            Threshold.objects.values_list("petition_id", "target_id", "count", "days_to_respond")
        ),
        ThresholdRequest.objects.count(),
        OutboundEmail.objects.count(),
    )


def _messages(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture(params=["first-owns", "second-owns"])
def sides(request: pytest.FixtureRequest) -> tuple[Organization, Organization]:
    """(the leading organization, another verified one), made in both orders."""
    first, second = OrganizationFactory(), OrganizationFactory()
    return (first, second) if request.param == "first-owns" else (second, first)


def test_an_editor_of_the_lead_sets_and_removes_thresholds(sides) -> None:
    lead, _other = sides
    mayor = TargetFactory()
    petition = _led(lead, targets=[mayor])
    client = _client(_member(lead))
    url = _url(lead, petition)
    page = client.get(url)
    assert page.status_code == 200
    assert "Add a threshold" in page.content.decode()
    added = client.post(url, {"count": "10000", "days_to_respond": "30", "target": "", "add": "1"})
    assert added.status_code == 302
    own = client.post(
        url, {"count": "500", "days_to_respond": "7", "target": str(mayor.pk), "add": "1"}
    )
    assert own.status_code == 302
    assert sorted(Threshold.objects.values_list("count", "days_to_respond", "target")) == [
        (500, 7, mayor.pk),
        (10000, 30, None),
    ]
    shown = client.get(url).content.decode()
    assert "10,000" in shown and "Mayor of Oakland" in shown
    removed = client.post(url, {"remove": str(Threshold.objects.get(count=500).pk)})
    assert "Threshold removed." in _messages(removed)
    assert list(Threshold.objects.values_list("count", flat=True)) == [10000]
    # The admin's audit log records each change.
    from django.contrib.admin.models import LogEntry

    assert LogEntry.objects.filter(object_id=str(petition.pk)).count() == 3


def test_a_co_lead_edits_thresholds_too(sides) -> None:
    lead, co_lead = sides
    petition = _led(lead)
    PetitionInvitation.objects.create(
        campaign=petition,
        organization=co_lead,
        role=PetitionInvitation.Role.CO_LEAD,
        status=PetitionInvitation.Status.ACCEPTED,
    )
    client = _client(_member(co_lead))
    assert client.get(_url(co_lead, petition)).status_code == 200


@pytest.mark.parametrize("who", ["outsider", "co-sponsor", "anonymous", "viewer", "steward"])
def test_everyone_else_is_refused_and_nothing_is_written(sides, who: str) -> None:
    lead, other = sides
    petition = _led(lead)
    Threshold.objects.create(petition=petition, count=900, days_to_respond=30)
    threshold = Threshold.objects.get()
    if who == "co-sponsor":
        petition.sponsors.add(other)
        PetitionInvitation.objects.create(
            campaign=petition,
            organization=other,
            role=PetitionInvitation.Role.CO_SPONSOR,
            status=PetitionInvitation.Status.ACCEPTED,
        )
    user = {
        "outsider": lambda: _member(other),
        "co-sponsor": lambda: _member(other),
        "anonymous": lambda: None,
        "viewer": lambda: _member(lead, "viewer"),
        "steward": lambda: _member(lead, "steward"),
    }[who]()
    organization = lead if who in ("viewer", "steward") else other
    client = _client(user)
    before = _snapshot()
    urls = [_url(organization, petition)]
    if who in ("outsider", "co-sponsor"):
        # Through its own organization or the lead's address: never there.
        urls.append(_url(lead, petition))
    for url in urls:
        for response in (
            client.get(url),
            client.post(url, {"count": "5000", "days_to_respond": "30", "add": "1"}),
            client.post(url, {"remove": str(threshold.pk)}),
        ):
            if who == "anonymous":
                assert response.status_code == 302 and "/login/" in response["Location"]
            elif who in ("viewer", "steward"):
                assert response.status_code == 403
            else:
                assert response.status_code == 404
    assert _snapshot() == before


def test_a_petition_the_organization_does_not_lead_is_not_found_from_its_workspace(sides) -> None:
    lead, other = sides
    theirs = _led(other)
    staff_made = PetitionFactory()  # no organization at all
    client = _client(_member(lead))
    assert client.get(_url(lead, theirs)).status_code == 404
    assert client.get(_url(lead, staff_made)).status_code == 404


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"count": "0", "days_to_respond": "30"}, "greater than or equal to 1"),
        ({"count": "-5", "days_to_respond": "30"}, "greater than or equal to 1"),
        ({"count": "many", "days_to_respond": "30"}, "Enter a whole number"),
        ({"count": "99999999999999999999", "days_to_respond": "30"}, "less than or equal to"),
        ({"count": "1000", "days_to_respond": "0"}, "greater than or equal to 1"),
        ({"count": "1000", "days_to_respond": "400"}, "less than or equal to 365"),
        ({"count": "40", "days_to_respond": "30"}, "a new threshold must be higher"),
        ({"count": "900", "days_to_respond": "30"}, "already a threshold at this count"),
        ({"count": "1000", "days_to_respond": "30", "target": "OTHER"}, "Select a valid choice"),
    ],
    ids=[
        "zero",
        "negative",
        "not a number",
        "huge",
        "no days",
        "too many days",
        "passed already",
        "duplicate",
        "another petition's target",
    ],
)
def test_a_refused_threshold_keeps_what_was_typed_and_writes_nothing(
    sides, data: dict[str, str], error: str
) -> None:
    lead, _other = sides
    petition = _led(lead, targets=[TargetFactory()])
    Petition.objects.filter(pk=petition.pk).update(signature_count=50)
    Threshold.objects.create(petition=petition, count=900, days_to_respond=30)
    stranger = TargetFactory(title="Governor of Nowhere")
    if data.get("target") == "OTHER":
        data = data | {"target": str(stranger.pk)}
    client = _client(_member(lead))
    before = _snapshot()
    page = client.post(_url(lead, petition), {"target": "", **data, "add": "1"})
    assert page.status_code == 400
    content = page.content.decode()
    assert error in content
    assert f'value="{data["count"]}"' in content
    assert _snapshot() == before


def test_too_many_thresholds_are_refused(sides, settings) -> None:
    settings.THRESHOLDS_PER_PETITION = 2
    lead, _other = sides
    petition = _led(lead)
    client = _client(_member(lead))
    for count in ("100", "200"):
        client.post(_url(lead, petition), {"count": count, "days_to_respond": "30", "add": "1"})
    page = client.post(_url(lead, petition), {"count": "300", "days_to_respond": "30", "add": "1"})
    assert page.status_code == 400
    assert "at most 2 thresholds" in page.content.decode()
    assert Threshold.objects.count() == 2


def test_a_reached_threshold_cannot_be_removed(sides) -> None:
    lead, _other = sides
    petition = _led(lead, targets=[TargetFactory()])
    threshold = Threshold.objects.create(petition=petition, count=1, days_to_respond=30)
    SignatureFactory(petition=petition, confirmed=True)
    counting.petition_counts_update()
    client = _client(_member(lead))
    url = _url(lead, petition)
    assert "awaiting an answer, due on" in client.get(url).content.decode()
    before = _snapshot()
    refused = client.post(url, {"remove": str(threshold.pk)})
    assert "it stays on record" in " ".join(_messages(refused))
    # Nor one of another petition, nor something that is not a number.
    for value in (str(Threshold.objects.create(petition=_led(_other), count=5).pk), "x", "1" * 30):
        client.post(url, {"remove": value})
    assert _snapshot()[1:] == before[1:]
    assert Threshold.objects.filter(pk=threshold.pk).exists()


# --- The admin ------------------------------------------------------------------------------------


def _answered(petition: Petition) -> ThresholdRequest:
    Threshold.objects.create(petition=petition, count=1, days_to_respond=30)
    SignatureFactory(petition=petition, confirmed=True)
    counting.petition_counts_update()
    request = ThresholdRequest.objects.get(petition=petition)
    threshold_answers.threshold_answer_save(
        slug=petition.slug,
        token=threshold_emails.answer_token(request=request),
        text="We will vote.",
    )
    return request


def test_staff_publish_from_the_admins_queue(admin_client: Client) -> None:
    petition = PetitionFactory(targets=[TargetFactory()])
    request = _answered(petition)
    queue = admin_client.get(
        reverse("admin:petitions_thresholdrequest_changelist") + "?status__exact=answered"
    )
    assert queue.status_code == 200
    assert "Mayor of Oakland" in queue.content.decode()
    assert (
        admin_client.get(
            reverse("admin:petitions_thresholdrequest_change", args=[request.pk])
        ).status_code
        == 200
    )
    done = admin_client.post(
        reverse("admin:petitions_thresholdrequest_changelist"),
        {"action": "publish", "_selected_action": [str(request.pk)]},
        follow=True,
    )
    assert "Published 1 answer." in done.content.decode()
    request.refresh_from_db()
    assert request.status == "published"
    assert request.response is not None and request.response.text == "We will vote."


def test_staff_set_thresholds_in_the_admin(admin_client: Client) -> None:
    mayor = TargetFactory()
    petition = PetitionFactory(targets=[mayor])
    stranger = TargetFactory(title="Governor of Nowhere")
    add = reverse("admin:petitions_threshold_add")
    assert admin_client.get(add).status_code == 200
    data = {"petition": petition.pk, "count": "10000", "days_to_respond": "30", "target": ""}
    refused = admin_client.post(add, data | {"target": stranger.pk})
    assert refused.status_code == 200
    assert "Choose one of the petition&#x27;s targets." in refused.content.decode()
    assert admin_client.post(add, data).status_code == 302
    duplicate = admin_client.post(add, data)
    assert "already has a threshold at this count" in duplicate.content.decode()
    assert admin_client.post(add, data | {"count": "500", "target": mayor.pk}).status_code == 302
    assert sorted(Threshold.objects.values_list("count", "target")) == [
        (500, mayor.pk),
        (10000, None),
    ]


def test_staff_see_which_targets_were_not_emailed(admin_client: Client) -> None:
    petition = PetitionFactory(targets=[TargetFactory(email="")])
    Threshold.objects.create(petition=petition, count=1, days_to_respond=30)
    SignatureFactory(petition=petition, confirmed=True)
    counting.petition_counts_update()
    listing = admin_client.get(
        reverse("admin:petitions_thresholdrequest_changelist") + "?notice__exact=no_email"
    )
    assert "the target has no delivery email" in listing.content.decode()
