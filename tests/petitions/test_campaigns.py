"""Goals, opening and closing on dates, milestones, and the sign form's per-petition settings."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mechanisms import outbox as outbox_service
from mechanisms.models import OutboundEmail
from petitions import services, tasks
from petitions.models import (
    Petition,
    PetitionMilestone,
    Signature,
    SponsorOptIn,
    goal_steps,
)
from petitions.services import campaigns
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    PetitionFactory,
    SignatureFactory,
)

pytestmark = pytest.mark.django_db


SIGN = {
    "name": "Maria Rossi",
    "email": "maria@example.org",
    "postal_code": "94612",
    "country": "US",
    "display": "short",
}


def _at(petition: Petition, count: int) -> Petition:
    Petition.objects.filter(pk=petition.pk).update(signature_count=count)
    petition.refresh_from_db()
    return petition


def _sponsor_members(petition: Petition, count: int = 2) -> list[str]:
    org = OrganizationFactory()
    petition.sponsors.add(org)
    return sorted(MembershipFactory(organization=org).user.email for _ in range(count))


# --- Goals ------------------------------------------------------------------------------------


def test_goal_steps_up_then_doubles_after_100000() -> None:
    assert list(itertools.islice(goal_steps(), 13)) == [
        *(100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000),
        *(200_000, 400_000, 800_000),
    ]


@pytest.mark.parametrize(
    ("count", "goal"),
    [
        *((0, 100), (99, 100), (100, 250), (249, 250), (250, 500), (999, 1_000)),
        *((1_000, 2_500), (99_999, 100_000), (100_000, 200_000), (200_000, 400_000)),
    ],
)
def test_current_goal_is_the_next_step_above_the_count(count: int, goal: int) -> None:
    assert Petition(signature_count=count).current_goal == goal


def test_goals_reached_lists_the_steps_the_count_passed() -> None:
    assert Petition(signature_count=300).goals_reached() == [100, 250]
    assert Petition(signature_count=99).goals_reached() == []
    assert Petition(signature_count=0).goals_reached(count=250) == [100, 250]


def test_a_fixed_goal_wins_and_is_the_only_goal_reached() -> None:
    assert Petition(goal=5_000, signature_count=120).current_goal == 5_000
    assert Petition(goal=5_000, signature_count=9_000).current_goal == 5_000
    assert Petition(goal=1_000, signature_count=999).goals_reached() == []
    assert Petition(goal=1_000, signature_count=30_000).goals_reached() == [1_000]


# --- Opening and closing ----------------------------------------------------------------------


def test_open_and_close_due_moves_only_petitions_whose_date_has_come() -> None:
    now, hour = timezone.now(), timedelta(hours=1)
    draft, open_, closed = Petition.Status.DRAFT, Petition.Status.OPEN, Petition.Status.CLOSED
    archived = Petition.Status.ARCHIVED
    expected = {
        PetitionFactory(status=draft, opens_at=now - hour): open_,
        PetitionFactory(status=draft): draft,  # opened by hand only
        PetitionFactory(status=draft, opens_at=now + hour): draft,
        # Its whole window passed while it was a draft: it never opens.
        PetitionFactory(status=draft, opens_at=now - 2 * hour, closes_at=now - hour): draft,
        PetitionFactory(status=open_, closes_at=now - hour): closed,
        PetitionFactory(status=open_, closes_at=now + hour): open_,
        PetitionFactory(status=archived, opens_at=now - 2 * hour, closes_at=now - hour): archived,
    }
    done = campaigns.petitions_open_and_close_due(now=now)
    assert (done.opened, done.closed) == (1, 1)
    assert {p: Petition.objects.get(pk=p.pk).status for p in expected} == expected
    again = campaigns.petitions_open_and_close_due(now=now)
    assert (again.opened, again.closed) == (0, 0)
    assert {p: Petition.objects.get(pk=p.pk).status for p in expected} == expected


@pytest.mark.parametrize("status", [Petition.Status.CLOSED, Petition.Status.ARCHIVED])
def test_signing_an_ended_petition_raises_and_writes_nothing(
    status: str, django_capture_on_commit_callbacks, outbox
) -> None:
    petition = PetitionFactory(status=status)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(services.PetitionNotOpen):
        services.signature_create(petition=petition, **SIGN)
    assert not Signature.objects.exists()
    assert outbox == []


# --- Milestones -------------------------------------------------------------------------------


def test_counter_crossing_100_records_a_milestone_and_emails_each_sponsor_member_once(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    first, second = OrganizationFactory(), OrganizationFactory()
    petition.sponsors.add(first, second)
    people = [MembershipFactory(organization=first).user for _ in range(2)]
    people.append(MembershipFactory(organization=second).user)
    # Someone in both sponsoring organizations hears once; a non-sponsor's member not at all.
    MembershipFactory(organization=second, user=people[0])
    MembershipFactory()
    members = sorted(person.email for person in people)
    _at(petition, 98)
    SignatureFactory.create_batch(2, petition=petition, confirmed=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.petition_counts_update.apply().get() == {str(petition.pk): 2}
    milestone = PetitionMilestone.objects.get(petition=petition)
    assert milestone.goal == 100
    assert milestone.notified_at is not None
    assert sorted(address for m in outbox for address in m.to) == sorted(members)
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in outbox)
    assert outbox[0].subject == f"100 signatures: {petition.title}"
    assert "The next goal is 250" in outbox[0].body

    with django_capture_on_commit_callbacks(execute=True):
        tasks.petition_counts_update.apply()
        assert campaigns.petition_milestones_record(petition_ids=[petition.pk]) == []
    assert len(outbox) == len(members)
    assert PetitionMilestone.objects.count() == 1


def test_milestone_emails_sent_twice_go_once(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    members = _sponsor_members(petition)
    _at(petition, 100)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.petition_milestones_record(petition_ids=[petition.pk])
    # Their send task run again (a broker redelivery, the sweep racing it): nothing twice.
    ids = list(OutboundEmail.objects.filter(kind="petition_milestone").values_list("pk", flat=True))
    assert len(ids) == 2
    assert outbox_service.emails_send(email_ids=ids).sent == 0
    assert sorted(m.to[0] for m in outbox) == members


def test_a_jump_past_two_steps_records_both_and_emails_about_the_highest(
    petition, django_capture_on_commit_callbacks, outbox
) -> None:
    members = _sponsor_members(petition)
    _at(petition, 300)
    with django_capture_on_commit_callbacks(execute=True):
        queued = campaigns.petition_milestones_record(petition_ids=[petition.pk])
    milestones = list(PetitionMilestone.objects.filter(petition=petition))
    assert [m.goal for m in milestones] == [100, 250]
    assert queued == [milestones[1].pk]
    assert all(m.notified_at is not None for m in milestones)
    assert sorted(m.to[0] for m in outbox) == members
    assert {m.subject for m in outbox} == {f"250 signatures: {petition.title}"}


def test_a_fixed_goal_is_the_only_milestone(django_capture_on_commit_callbacks, outbox) -> None:
    petition = _at(PetitionFactory(goal=150), 300)
    _sponsor_members(petition, count=1)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.petition_milestones_record(petition_ids=[petition.pk])
    assert list(PetitionMilestone.objects.values_list("goal", flat=True)) == [150]
    assert [m.subject for m in outbox] == [f"150 signatures: {petition.title}"]


def test_the_email_for_a_reached_fixed_goal_announces_no_next_goal_equal_to_it(
    django_capture_on_commit_callbacks, outbox
) -> None:
    petition = _at(PetitionFactory(goal=150), 160)
    _sponsor_members(petition, count=1)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.petition_milestones_record(petition_ids=[petition.pk])
    (message,) = outbox
    assert "has reached 150 confirmed signatures" in message.body
    assert "The next goal is 150" not in message.body


@pytest.mark.django_db(transaction=True)
def test_two_racing_recorders_record_and_email_a_milestone_once(outbox) -> None:
    """Both counters see the count pass 100 and 250 before either writes; one records both steps
    and emails about 250, the other finds them recorded once it holds the petition's lock."""
    petition = _at(PetitionFactory(), 300)
    _sponsor_members(petition, count=1)
    barrier = threading.Barrier(2, timeout=10)
    looked = threading.local()
    new_goals = campaigns._new_goals
    queued: list[list[int]] = []

    def new_goals_after_both_looked(**kwargs):
        goals = new_goals(**kwargs)
        if not getattr(looked, "once", False):
            looked.once = True
            barrier.wait()  # both threads have seen [100, 250] as new before either goes on
        return goals

    def record() -> None:
        try:
            queued.append(campaigns.petition_milestones_record(petition_ids=[petition.pk]))
        finally:
            connection.close()

    threads = [threading.Thread(target=record) for _ in range(2)]
    with mock.patch.object(campaigns, "_new_goals", new_goals_after_both_looked):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # A thread that raised appended nothing.
    assert sorted(len(ids) for ids in queued) == [0, 1]
    assert sorted(PetitionMilestone.objects.values_list("goal", flat=True)) == [100, 250]
    (message,) = outbox
    assert "has reached 250 confirmed signatures" in message.body


# --- The sign form follows the petition's settings --------------------------------------------


def _sign(client: Client, petition: Petition, **changes):
    return client.post(reverse("petitions:sign", kwargs={"slug": petition.slug}), SIGN | changes)


@pytest.mark.parametrize(
    ("form_settings", "refused", "accepted", "message"),
    [
        ({"postal_code_required": True}, {"postal_code": ""}, {}, "This field is required"),
        ({"countries": ["US", "CA"]}, {"country": "IT"}, {"country": "CA"}, "a valid choice"),
    ],
)
def test_the_form_refuses_what_the_petition_does_not_accept(
    client, outbox, form_settings, refused, accepted, message
) -> None:
    petition = PetitionFactory(**form_settings)
    response = _sign(client, petition, **refused)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Signature.objects.exists()
    assert outbox == []
    assert _sign(client, petition, **accepted).status_code == 302
    # Without the setting, the same answer is fine.
    assert _sign(client, PetitionFactory(), **refused).status_code == 302


@pytest.mark.parametrize("code", ["XX", "us", "USA", "EU", "U"])
def test_a_country_code_no_country_has_is_refused(client, code) -> None:
    response = _sign(client, PetitionFactory(), country=code)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Signature.objects.exists()


@pytest.mark.parametrize("code", ["US", "IT", "ZW", "AX"])
def test_any_country_of_the_world_is_taken_when_the_petition_names_none(client, code) -> None:
    assert _sign(client, PetitionFactory(), country=code).status_code == 302
    assert Signature.objects.get().country == code


def test_a_comment_is_stored_only_when_asked_for(client, petition) -> None:
    asking = PetitionFactory(ask_comment=True)
    assert _sign(client, asking, comment="My street has six cameras.").status_code == 302
    assert _sign(client, petition, comment="Unasked").status_code == 302
    assert Signature.objects.get(petition=asking).comment == "My street has six cameras."
    assert Signature.objects.get(petition=petition).comment == ""


def test_a_ticked_sponsor_is_recorded_as_an_opt_in(client) -> None:
    petition = PetitionFactory(offer_sponsor_opt_in=True)
    ticked, unticked = OrganizationFactory(), OrganizationFactory()
    petition.sponsors.add(ticked, unticked)
    assert _sign(client, petition, sponsor_opt_ins=[str(ticked.pk)]).status_code == 302
    opt_in = SponsorOptIn.objects.get()
    assert (opt_in.signature, opt_in.organization) == (Signature.objects.get(), ticked)


def test_an_organization_that_is_not_a_sponsor_is_refused(client) -> None:
    petition = PetitionFactory(offer_sponsor_opt_in=True)
    petition.sponsors.add(OrganizationFactory())
    outsider = OrganizationFactory()
    response = _sign(client, petition, sponsor_opt_ins=[str(outsider.pk)])
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Signature.objects.exists()
    assert not SponsorOptIn.objects.exists()


def test_opt_ins_are_ignored_when_the_petition_does_not_offer_them(client, petition) -> None:
    sponsor = OrganizationFactory()
    petition.sponsors.add(sponsor)
    assert _sign(client, petition, sponsor_opt_ins=[str(sponsor.pk)]).status_code == 302
    assert Signature.objects.exists()
    assert not SponsorOptIn.objects.exists()
