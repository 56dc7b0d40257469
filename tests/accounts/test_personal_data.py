"""The personal-data registry: petitions and letters each answer for their records, and withdrawing
keeps counts exact."""

from __future__ import annotations

import pytest

from accounts.my_signatures import link_owner, my_signatures_refs
from mechanisms import personal_data
from mechanisms.models import OutboundEmail
from mechanisms.personal_data import (
    UnknownRecord,
    personal_data_export,
    personal_records_list,
    personal_records_withdraw,
)
from petitions.models import Petition, PetitionUpdate, Signature, SponsorOptIn
from petitions.services import petition_counts_update
from petitions.services.campaigns import petition_update_publish
from tests.factories import (
    IndividualSignatureFactory,
    OrganizationFactory,
    PetitionFactory,
    SignatureFactory,
)

pytestmark = pytest.mark.django_db

MARIA = "maria.rossi@example.org"


def _petition_signature(petition: Petition | None = None, **fields) -> Signature:
    fields.setdefault("email", "Maria.Rossi+cams@example.org")
    return SignatureFactory(petition=petition or PetitionFactory(), name="Maria Rossi", **fields)


def test_both_apps_are_registered() -> None:
    # Petitions register their online and their paper signatures.
    assert {provider.key for provider in personal_data.providers()} == {
        "petition",
        "paper",
        "letter",
    }


def test_a_person_sees_their_records_from_every_app_and_no_one_elses() -> None:
    mine = _petition_signature(confirmed=True, counted=True)
    letter = IndividualSignatureFactory(email="MARIA.ROSSI@example.org", name="Maria Rossi")
    SignatureFactory(email="someone@example.org")
    SignatureFactory(petition=mine.petition, email="other@example.org")

    records = personal_records_list(canonical_email=MARIA)

    assert {record.ref for record in records} == {f"petition:{mine.pk}", f"letter:{letter.pk}"}
    shown = {record.kind: record for record in records}
    assert shown["petition"].campaign_title == mine.petition.title
    assert shown["petition"].shown_as == "Maria R."
    assert shown["petition"].status == "Confirmed"
    assert shown["letter"].status == "Awaiting email confirmation"


def test_anonymized_records_belong_to_no_one() -> None:
    _petition_signature()
    Signature.objects.update(canonical_email="", anonymized_at="2026-01-01T00:00Z")
    assert personal_records_list(canonical_email="") == []
    assert personal_records_list(canonical_email=MARIA) == []


def test_the_export_holds_every_personal_field(django_capture_on_commit_callbacks) -> None:
    sponsor = OrganizationFactory(name="Oakland Privacy")
    signature = _petition_signature(
        postal_code="94612",
        comment="Three cameras on my street.",
        consent_updates=True,
        ip_hash="c" * 64,
        confirmed=True,
    )
    SponsorOptIn.objects.create(signature=signature, organization=sponsor)
    sent = PetitionUpdate.objects.create(
        petition=signature.petition, title="Vote on Tuesday", email_signers=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        petition_update_publish(update_id=sent.pk)
    # Owed but not sent yet: not something she was emailed.
    owed = PetitionUpdate.objects.create(
        petition=signature.petition, title="Thank you", email_signers=True
    )
    petition_update_publish(update_id=owed.pk)
    assert OutboundEmail.objects.filter(kind="petition_update", state="pending").count() == 1

    (record,) = personal_data_export(canonical_email=MARIA)["records"]

    assert record["type"] == "petition"
    assert record["campaign"] == signature.petition.title
    assert record["name"] == "Maria Rossi"
    assert record["email"] == "Maria.Rossi+cams@example.org"
    assert record["postal_code"] == "94612"
    assert record["comment"] == "Three cameras on my street."
    assert record["wants_updates"] is True
    assert record["ip_hash"] == "c" * 64
    assert record["sponsors_allowed_to_contact"] == ["Oakland Privacy"]
    (emailed,) = record["updates_emailed"]
    assert emailed["update"] == "Vote on Tuesday"
    mailed = OutboundEmail.objects.get(kind="petition_update", state="sent")
    assert emailed["sent_at"] == mailed.sent_at.isoformat()
    assert record["confirmed_at"] == signature.confirmed_at.isoformat()


def test_a_held_signature_says_it_awaits_review_but_never_which_signal_fired() -> None:
    # The flag codes would tell a bot's operator what to change; they are for staff.
    _petition_signature(flags="disposable ip_burst", held=True, confirmed=True)
    IndividualSignatureFactory(email=MARIA, flags="too_fast no_pow", held=True)

    records = personal_records_list(canonical_email=MARIA)
    exported = personal_data_export(canonical_email=MARIA)["records"]

    assert [record.status for record in records] == ["Awaiting review", "Awaiting review"]
    assert [record["held_for_review"] for record in exported] == [True, True]
    text = repr(records) + repr(exported)
    for code in ("disposable", "ip_burst", "too_fast", "no_pow"):
        assert code not in text


def test_withdrawing_a_counted_signature_takes_it_off_the_count() -> None:
    petition = PetitionFactory(signature_count=2)
    mine = _petition_signature(petition, confirmed=True, counted=True)
    other = SignatureFactory(petition=petition, confirmed=True, counted=True)
    SponsorOptIn.objects.create(signature=mine, organization=OrganizationFactory())

    assert personal_records_withdraw(canonical_email=MARIA, refs=[f"petition:{mine.pk}"]) == 1

    petition.refresh_from_db()
    assert petition.signature_count == 1
    assert list(Signature.objects.values_list("pk", flat=True)) == [other.pk]
    assert not SponsorOptIn.objects.exists()


def test_withdrawing_an_uncounted_signature_leaves_the_count_and_the_counter_never_adds_it() -> (
    None
):
    petition = PetitionFactory(signature_count=0)
    mine = _petition_signature(petition, confirmed=True)

    personal_records_withdraw(canonical_email=MARIA, refs=[f"petition:{mine.pk}"])
    petition_counts_update()

    petition.refresh_from_db()
    assert petition.signature_count == 0


def test_withdrawing_all_removes_every_record_of_the_person_only() -> None:
    first = PetitionFactory(signature_count=1)
    second = PetitionFactory(signature_count=5)
    _petition_signature(first, confirmed=True, counted=True)
    _petition_signature(second, confirmed=True, counted=True)
    IndividualSignatureFactory(email=MARIA)
    other = SignatureFactory(petition=second, confirmed=True, counted=True)

    assert personal_records_withdraw(canonical_email=MARIA, refs=None) == 3

    assert personal_records_list(canonical_email=MARIA) == []
    assert Signature.objects.get() == other
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.signature_count, second.signature_count) == (0, 4)


def test_someone_elses_record_cannot_be_withdrawn_by_its_id() -> None:
    petition = PetitionFactory(signature_count=1)
    theirs = SignatureFactory(petition=petition, confirmed=True, counted=True)
    their_letter = IndividualSignatureFactory()
    _petition_signature()

    refs = [f"petition:{theirs.pk}", f"letter:{their_letter.pk}"]
    assert personal_records_withdraw(canonical_email=MARIA, refs=refs) == 0

    assert Signature.objects.filter(pk=theirs.pk).exists()
    petition.refresh_from_db()
    assert petition.signature_count == 1


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "petition",
        "petition:",
        "petition:x",
        "club:1",
        "letter:-1",
        "petition:+1",
        "petition: 1",
        "petition:1\n",
        # Unicode digits str.isdigit accepts and int() refuses or reads.
        "petition:\u00b2",
        "petition:\u0661\u0662",
        "petition:\uff11",
        # More digits than a bigint holds.
        "petition:" + "9" * 19,
    ],
)
def test_a_malformed_reference_is_refused(ref: str) -> None:
    with pytest.raises(UnknownRecord):
        personal_records_withdraw(canonical_email=MARIA, refs=[ref])


def test_a_link_finds_its_owner_from_any_record_still_there() -> None:
    first = _petition_signature()
    second = IndividualSignatureFactory(email="maria.rossi@example.org")
    refs = my_signatures_refs(canonical_email=MARIA)
    assert set(refs) == {f"petition:{first.pk}", f"letter:{second.pk}"}

    personal_records_withdraw(canonical_email=MARIA, refs=[refs[0]])
    owner = link_owner(refs=refs)
    assert owner is not None
    assert owner.canonical_email == MARIA

    personal_records_withdraw(canonical_email=MARIA, refs=None)
    assert link_owner(refs=refs) is None


@pytest.mark.parametrize("refs", [None, "petition:1", {"petition": 1}, [1, None, "x:y"]])
def test_a_link_with_odd_contents_has_no_owner(refs: object) -> None:
    _petition_signature()
    assert link_owner(refs=refs) is None
