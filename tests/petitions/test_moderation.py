"""Moderation services: what approving, rejecting, marking as spam and resending do to
signatures, to counts (exact after any moderation, never taken off twice), and to the audit
log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import timezone

from letters import moderation as letter_moderation
from letters import selectors as letter_selectors
from letters.models import IndividualSignature, OpenLetter
from mechanisms.models import OutboundEmail
from petitions import routing, selectors, services
from petitions.models import Petition, Signature
from petitions.services import moderation
from tests.factories import (
    IndividualSignatureFactory,
    PetitionFactory,
    SignatureFactory,
    TargetFactory,
)

pytestmark = pytest.mark.django_db


def _counted(petition: Petition, n: int, **fields) -> list[Signature]:
    """n signatures the counter has already added to the petition's count."""
    signatures = SignatureFactory.create_batch(n, petition=petition, confirmed=True, **fields)
    services.petition_counts_update()
    petition.refresh_from_db()
    assert petition.signature_count == n
    return signatures


def _count(petition: Petition) -> int:
    petition.refresh_from_db()
    return petition.signature_count


def _true_count(petition: Petition) -> int:
    """What the nightly recount would set: the count must already agree with it."""
    return services.petition_recount(petition_id=petition.pk).after


def test_rejecting_counted_signatures_takes_them_off_the_count_at_once(moderator) -> None:
    petition = PetitionFactory()
    kept, *spam = _counted(petition, 4)
    result = moderation.signatures_reject(
        signature_ids=[s.pk for s in spam], moderator=moderator, reason="Same IP, fake names"
    )
    assert (result.done, result.skipped) == (3, 0)
    assert _count(petition) == 1 == _true_count(petition)
    for signature in spam:
        signature.refresh_from_db()
        assert signature.status == Signature.Status.REJECTED
        assert not signature.counted
        assert signature.moderated_by == moderator
        assert signature.moderated_at is not None
        assert signature.moderation_reason == "Same IP, fake names"
    kept.refresh_from_db()
    assert kept.status == Signature.Status.CONFIRMED and kept.counted


def test_rejecting_twice_never_takes_a_signature_off_twice(moderator) -> None:
    petition = PetitionFactory()
    signatures = _counted(petition, 3)
    ids = [signatures[0].pk]
    moderation.signatures_reject(signature_ids=ids, moderator=moderator, reason="Spam")
    again = moderation.signatures_reject(signature_ids=ids, moderator=moderator, reason="Spam")
    assert (again.done, again.skipped) == (0, 1)
    # Marking it as spam afterwards changes its status but not the count.
    moderation.signatures_mark_spam(signature_ids=ids, moderator=moderator)
    assert _count(petition) == 2 == _true_count(petition)


def test_only_counted_signatures_come_off_the_count(moderator) -> None:
    """Pending, held and confirmed-but-not-yet-counted ones were never added."""
    petition = PetitionFactory()
    counted = _counted(petition, 2)
    pending = SignatureFactory(petition=petition)
    held = SignatureFactory(petition=petition, confirmed=True, held=True, flags="disposable")
    uncounted = SignatureFactory(petition=petition, confirmed=True)
    ids = [counted[0].pk, pending.pk, held.pk, uncounted.pk]
    result = moderation.signatures_mark_spam(signature_ids=ids, moderator=moderator)
    assert result.done == 4
    assert _count(petition) == 1
    # The counter finds nothing more to add: the uncounted one is spam now.
    assert services.petition_counts_update() == {}
    assert _count(petition) == 1 == _true_count(petition)
    assert set(Signature.objects.filter(pk__in=ids).values_list("status", "held").distinct()) == {
        (Signature.Status.SPAM, False)
    }


def test_a_batch_across_petitions_takes_each_off_its_own_count(moderator) -> None:
    first, second = PetitionFactory(), PetitionFactory()
    in_first, in_second = _counted(first, 3), _counted(second, 2)
    moderation.signatures_mark_spam(
        signature_ids=[in_first[0].pk, in_first[1].pk, in_second[0].pk], moderator=moderator
    )
    assert (_count(first), _count(second)) == (1, 1)


def test_a_count_that_drifted_low_never_goes_below_zero(moderator) -> None:
    petition = PetitionFactory()
    signatures = _counted(petition, 2)
    Petition.objects.filter(pk=petition.pk).update(signature_count=1)
    moderation.signatures_reject(
        signature_ids=[s.pk for s in signatures], moderator=moderator, reason="Bots"
    )
    assert _count(petition) == 0


def test_a_rejection_needs_a_reason_and_then_changes_nothing(moderator) -> None:
    petition = PetitionFactory()
    signatures = _counted(petition, 1)
    with pytest.raises(ValidationError):
        moderation.signatures_reject(
            signature_ids=[signatures[0].pk], moderator=moderator, reason="   "
        )
    with pytest.raises(ValidationError):
        moderation.signatures_reject(
            signature_ids=[signatures[0].pk], moderator=moderator, reason="x" * 501
        )
    assert _count(petition) == 1
    assert Signature.objects.get().status == Signature.Status.CONFIRMED
    assert not LogEntry.objects.exists()


def test_approving_a_held_signature_lets_the_counter_count_it(moderator) -> None:
    petition = PetitionFactory()
    held = SignatureFactory(petition=petition, confirmed=True, held=True, flags="ip_burst")
    assert services.petition_counts_update() == {}
    result = moderation.signatures_confirm(signature_ids=[held.pk], moderator=moderator)
    assert result.done == 1
    held.refresh_from_db()
    assert held.status == Signature.Status.CONFIRMED and not held.held
    assert held.flags == "ip_burst"  # why it was held stays on record
    assert services.petition_counts_update() == {petition.pk: 1}
    assert _count(petition) == 1


def test_approving_a_pending_signature_confirms_it_and_resolves_its_place(moderator) -> None:
    petition = PetitionFactory()
    target = TargetFactory()
    petition.targets.add(target)
    pending = SignatureFactory(
        petition=petition, postal_code="94612", country="US", held=True, flags="no_pow too_fast"
    )
    moderation.signatures_confirm(signature_ids=[pending.pk], moderator=moderator)
    pending.refresh_from_db()
    assert pending.status == Signature.Status.CONFIRMED
    assert pending.confirmed_at is not None
    assert (pending.region, pending.locality, pending.postal_code_known) == ("CA", "Oakland", True)
    # Routed to the Mayor of Oakland like a signer-confirmed signature, and shown publicly.
    assert list(routing.constituents(petition_id=petition.pk, target=target)) == [pending]
    assert [s.pk for s in selectors.signatures_recent_public(petition=petition)] == [pending.pk]


def test_approving_leaves_rejected_spam_and_confirmed_signatures_alone(moderator) -> None:
    petition = PetitionFactory()
    counted = _counted(petition, 1)[0]
    rejected = SignatureFactory(petition=petition, status=Signature.Status.REJECTED)
    spam = SignatureFactory(petition=petition, status=Signature.Status.SPAM)
    result = moderation.signatures_confirm(
        signature_ids=[counted.pk, rejected.pk, spam.pk, 999_999], moderator=moderator
    )
    assert (result.done, result.skipped) == (0, 4)
    assert set(Signature.objects.values_list("status", flat=True)) == {
        Signature.Status.CONFIRMED,
        Signature.Status.REJECTED,
        Signature.Status.SPAM,
    }
    assert _count(petition) == 1


def test_pending_signatures_are_not_approved_once_the_petition_has_closed(moderator) -> None:
    """The signer's own link no longer confirms on a closed petition; a moderator's approval
    must not either. A held signature the signer confirmed while it was open still may be."""
    petition = PetitionFactory()
    pending = SignatureFactory(petition=petition)
    held = SignatureFactory(petition=petition, confirmed=True, held=True, flags="no_pow")
    petition.status = Petition.Status.CLOSED
    petition.save()

    result = moderation.signatures_confirm(
        signature_ids=[pending.pk, held.pk, 999_999], moderator=moderator
    )

    assert (result.done, result.skipped, result.closed) == (1, 2, 1)
    pending.refresh_from_db()
    held.refresh_from_db()
    assert (pending.status, pending.moderated_by) == (Signature.Status.PENDING, None)
    assert (held.status, held.held) == (Signature.Status.CONFIRMED, False)
    assert [e.object_id for e in LogEntry.objects.all()] == [str(held.pk)]


def test_pending_signatures_are_not_approved_after_the_petition_closing_date(moderator) -> None:
    petition = PetitionFactory()
    pending = SignatureFactory(petition=petition)
    Petition.objects.filter(pk=petition.pk).update(closes_at=timezone.now() - timedelta(hours=1))
    result = moderation.signatures_confirm(signature_ids=[pending.pk], moderator=moderator)
    assert (result.done, result.closed) == (0, 1)
    assert Signature.objects.get(pk=pending.pk).status == Signature.Status.PENDING


def test_a_rejected_signer_disappears_from_the_public_list(moderator) -> None:
    petition = PetitionFactory()
    shown, hidden = _counted(petition, 2, display=Signature.Display.FULL)
    moderation.signatures_reject(signature_ids=[hidden.pk], moderator=moderator, reason="Fake")
    names = [s.public_name for s in selectors.signatures_recent_public(petition=petition)]
    assert names == [shown.name]


def test_every_action_writes_one_audit_row_per_signature_with_the_reason(moderator) -> None:
    petition = PetitionFactory()
    signatures = _counted(petition, 3)
    moderation.signatures_reject(
        signature_ids=[s.pk for s in signatures], moderator=moderator, reason="Bought clicks"
    )
    entries = LogEntry.objects.filter(user=moderator)
    assert entries.count() == 3
    assert {int(e.object_id) for e in entries} == {s.pk for s in signatures}
    entry = entries.first()
    assert entry.action_flag == CHANGE
    assert entry.content_type == ContentType.objects.get_for_model(Signature)
    assert "Bought clicks" in entry.get_change_message()
    # No name in the log: it outlives the retention that anonymizes signatures.
    assert all(s.name not in e.object_repr for e in entries for s in signatures)
    # A repeat that changes nothing writes nothing.
    moderation.signatures_reject(
        signature_ids=[s.pk for s in signatures], moderator=moderator, reason="Again"
    )
    assert LogEntry.objects.count() == 3


def test_resending_mails_pending_signatures_only_once_more(
    moderator, outbox, django_capture_on_commit_callbacks
) -> None:
    petition = PetitionFactory()
    pending = SignatureFactory(petition=petition, email="lost@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        services.signer_email_request(
            signature_id=pending.pk, email=pending.email, language=pending.language
        )
    assert len(outbox) == 1
    pending.refresh_from_db()
    first_sent_at = pending.confirmation_sent_at
    outbox.clear()
    confirmed = SignatureFactory(petition=petition, confirmed=True, email="done@example.org")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = moderation.signatures_resend_confirmation(
            signature_ids=[pending.pk, confirmed.pk], moderator=moderator
        )
    assert (result.done, result.skipped) == (1, 1)
    assert len(callbacks) == 1
    # Sent again although the signer was mailed within SIGNATURE_NOTICE_INTERVAL: a moderator
    # asked.
    assert [message.to for message in outbox] == [["lost@example.org"]]
    assert "/confirm/" in outbox[0].body
    pending.refresh_from_db()
    assert pending.confirmation_sent_at > first_sent_at  # sent again, and marked sent again
    assert list(
        OutboundEmail.objects.filter(kind="petition_confirmation_resent").values_list(
            "ref", "state"
        )
    ) == [({"signature": pending.pk}, OutboundEmail.State.SENT)]
    assert LogEntry.objects.filter(object_id=str(pending.pk)).count() == 1

    # Each request is one more email.
    with django_capture_on_commit_callbacks(execute=True):
        moderation.signatures_resend_confirmation(signature_ids=[pending.pk], moderator=moderator)
    assert len(outbox) == 2


# --- Letters' individual signatures -------------------------------------------------------------


def test_letter_signatures_are_approved_rejected_and_logged_alike(moderator) -> None:
    held = IndividualSignatureFactory(held=True, flags="disposable")
    letter = held.letter
    shown = IndividualSignatureFactory(letter=letter, confirmed=True)
    assert len(letter_selectors.letter_individuals_public(letter=letter)) == 1

    letter_moderation.individual_signatures_confirm(signature_ids=[held.pk], moderator=moderator)
    assert len(letter_selectors.letter_individuals_public(letter=letter)) == 2

    result = letter_moderation.individual_signatures_reject(
        signature_ids=[held.pk, shown.pk], moderator=moderator, reason="Not employees"
    )
    assert result.done == 2
    assert len(letter_selectors.letter_individuals_public(letter=letter)) == 0
    again = letter_moderation.individual_signatures_mark_spam(
        signature_ids=[held.pk], moderator=moderator
    )
    assert again.done == 1  # rejected -> spam is a change; spam -> spam would not be
    assert IndividualSignature.objects.get(pk=held.pk).status == IndividualSignature.Status.SPAM
    assert LogEntry.objects.filter(user=moderator).count() == 4


def test_pending_letter_signatures_are_not_approved_once_the_letter_has_closed(moderator) -> None:
    pending = IndividualSignatureFactory()
    letter = pending.letter
    held = IndividualSignatureFactory(letter=letter, confirmed=True, held=True, flags="no_pow")
    OpenLetter.objects.filter(pk=letter.pk).update(status=OpenLetter.Status.CLOSED)

    result = letter_moderation.individual_signatures_confirm(
        signature_ids=[pending.pk, held.pk], moderator=moderator
    )

    assert (result.done, result.skipped, result.closed) == (1, 1, 1)
    assert IndividualSignature.objects.get(pk=pending.pk).status == "pending"
    assert IndividualSignature.objects.get(pk=held.pk).held is False


def test_letter_confirmation_is_resent_to_pending_signers(
    moderator, outbox, django_capture_on_commit_callbacks
) -> None:
    pending = IndividualSignatureFactory(email="expert@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        result = letter_moderation.individual_signatures_resend_confirmation(
            signature_ids=[pending.pk], moderator=moderator
        )
    assert result.done == 1
    assert [message.to for message in outbox] == [["expert@example.org"]]
