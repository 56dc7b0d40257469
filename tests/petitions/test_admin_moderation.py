"""Moderating signatures in the admin, as a moderator (a staff member of the Moderator group,
not a superuser): filters, bulk actions with what they report, the flagged queue, the read-only
audit log, and the CSV export with its permission."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organization
from letters.models import IndividualSignature, OrganizationSignature
from petitions import services
from petitions.models import Delivery, Petition, PetitionUpdate, Response, Signature
from tests.factories import (
    IndividualSignatureFactory,
    OrganizationSignatureFactory,
    PendingOrganizationFactory,
    PetitionFactory,
    SignatureFactory,
    TargetFactory,
)

pytestmark = pytest.mark.django_db

SIGNATURES = reverse("admin:petitions_signature_changelist")
QUEUE = reverse("admin:petitions_flaggedsignature_changelist")
LOG = reverse("admin:admin_logentry_changelist")


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def editor_client(campaign_editor):
    client = Client()  # its own, beside moderator_client's
    client.force_login(campaign_editor)
    return client


def _act(client, url: str, action: str, signatures, **extra):
    """Run a bulk action from a changelist, as the action bar posts it, and follow it back."""
    data = {"action": action, "_selected_action": [str(s.pk) for s in signatures], **extra}
    return client.post(url, data, follow=True)


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _page(response) -> str:
    return response.content.decode()


# --- Filters and search ---------------------------------------------------------------------------


def test_filters_pick_signatures_by_status_flag_hold_petition_country_and_search(
    moderator_client,
) -> None:
    petition = PetitionFactory()
    burst = SignatureFactory(
        petition=petition, name="Burst Person", held=True, flags="ip_burst too_fast"
    )
    throwaway = SignatureFactory(
        petition=petition, name="Throwaway Person", held=True, flags="disposable", country="IT"
    )
    plain = SignatureFactory(name="Plain Person", confirmed=True, email="plain@example.com")

    def names(**query) -> set[str]:
        page = _page(moderator_client.get(SIGNATURES, query))
        return {s.name for s in (burst, throwaway, plain) if s.name in page}

    assert names() == {"Burst Person", "Throwaway Person", "Plain Person"}
    assert names(flag="ip_burst") == {"Burst Person"}
    assert names(flag="too_fast") == {"Burst Person"}
    assert names(flag="disposable") == {"Throwaway Person"}
    assert names(held__exact="1") == {"Burst Person", "Throwaway Person"}
    assert names(held__exact="0") == {"Plain Person"}
    assert names(status__exact="confirmed") == {"Plain Person"}
    assert names(petition__id__exact=str(petition.pk)) == {"Burst Person", "Throwaway Person"}
    assert names(country="IT") == {"Throwaway Person"}
    assert names(q="plain@example.com") == {"Plain Person"}
    assert names(q="Burst") == {"Burst Person"}
    today = timezone.now()
    assert len(names(created_at__year=str(today.year))) == 3
    # The filter's labels are words, not codes.
    assert "Burst from one network address" in _page(moderator_client.get(SIGNATURES))


# --- Bulk actions ---------------------------------------------------------------------------------


def test_reject_asks_for_a_reason_then_rejects_and_reports(moderator_client, moderator) -> None:
    petition = PetitionFactory()
    counted = SignatureFactory.create_batch(3, petition=petition, confirmed=True)
    services.petition_counts_update()
    already = SignatureFactory(petition=petition, status=Signature.Status.REJECTED)
    selected = [*counted, already]

    ask = _act(moderator_client, SIGNATURES, "reject_with_reason", selected)
    assert ask.status_code == 200
    assert 'name="reason"' in _page(ask)
    assert Signature.objects.filter(status=Signature.Status.REJECTED).count() == 1

    blank = _act(
        moderator_client, SIGNATURES, "reject_with_reason", selected, apply="1", reason=" "
    )
    assert blank.status_code == 400
    assert "This field is required." in _page(blank)
    assert Signature.objects.filter(status=Signature.Status.REJECTED).count() == 1

    done = _act(
        moderator_client,
        SIGNATURES,
        "reject_with_reason",
        selected,
        apply="1",
        reason="One address, many names",
    )
    assert done.status_code == 200
    assert _messages(done) == ["Rejected 3 signatures.", "1 was already rejected."]
    petition.refresh_from_db()
    assert petition.signature_count == 0
    assert set(
        Signature.objects.filter(pk__in=[s.pk for s in counted]).values_list(
            "moderation_reason", "moderated_by"
        )
    ) == {("One address, many names", moderator.pk)}


def test_mark_spam_confirm_and_resend_report_what_they_did(
    moderator_client, outbox, django_capture_on_commit_callbacks
) -> None:
    held = SignatureFactory(held=True, flags="disposable", email="held@example.org")
    pending = SignatureFactory(email="pending@example.org")
    spam = SignatureFactory(status=Signature.Status.SPAM)

    confirmed = _act(moderator_client, SIGNATURES, "confirm", [held, spam])
    assert _messages(confirmed) == [
        "Approved 1 signature.",
        "1 was neither awaiting confirmation nor held, and was left as it was.",
    ]
    held.refresh_from_db()
    assert (held.status, held.held) == (Signature.Status.CONFIRMED, False)

    with django_capture_on_commit_callbacks(execute=True):
        resent = _act(moderator_client, SIGNATURES, "resend_confirmation", [pending, held])
    assert _messages(resent) == [
        "Sending the confirmation email again to 1 signer.",
        "1 was not awaiting confirmation and was not emailed.",
    ]
    assert [m.to for m in outbox] == [["pending@example.org"]]

    marked = _act(moderator_client, SIGNATURES, "mark_spam", [pending, spam])
    assert _messages(marked) == ["Marked 1 signature as spam.", "1 was already marked as spam."]
    pending.refresh_from_db()
    assert pending.status == Signature.Status.SPAM


def test_approving_says_apart_which_pending_signatures_a_closed_petition_left_alone(
    moderator_client,
) -> None:
    petition = PetitionFactory()
    pending = SignatureFactory(petition=petition)
    held = SignatureFactory(petition=petition, confirmed=True, held=True, flags="no_pow")
    spam = SignatureFactory(petition=petition, status=Signature.Status.SPAM)
    petition.status = Petition.Status.CLOSED
    petition.save()

    response = _act(moderator_client, SIGNATURES, "confirm", [pending, held, spam])

    assert _messages(response) == [
        "Approved 1 signature.",
        "1 was neither awaiting confirmation nor held, and was left as it was.",
        "1 was skipped: it was never confirmed by its signer, and the campaign no longer takes "
        "signatures.",
    ]
    pending.refresh_from_db()
    assert pending.status == Signature.Status.PENDING


def test_the_change_form_shows_flags_and_moderation_read_only(moderator_client, moderator) -> None:
    signature = SignatureFactory(held=True, flags="near_duplicate no_pow")
    url = reverse("admin:petitions_signature_change", args=[signature.pk])
    page = _page(moderator_client.get(url))
    assert "Near-duplicate name, No proof of work (JavaScript off)" in page
    for field in ("status", "held", "flags", "moderation_reason", "moderated_by"):
        assert f'name="{field}"' not in page
    # No delete button, no deleting through the URL: counts and the audit log depend on rows.
    assert moderator_client.post(
        reverse("admin:petitions_signature_delete", args=[signature.pk])
    ).status_code in (403, 302)
    assert Signature.objects.filter(pk=signature.pk).exists()


def test_superusers_cannot_delete_signatures_either(admin_client) -> None:
    signature = SignatureFactory(confirmed=True)
    page = _page(admin_client.get(SIGNATURES))
    assert 'value="delete_selected"' not in page
    response = admin_client.post(reverse("admin:petitions_signature_delete", args=[signature.pk]))
    assert response.status_code == 403
    assert Signature.objects.filter(pk=signature.pk).exists()


# --- The flagged queue ----------------------------------------------------------------------------


def test_the_queue_lists_held_signatures_oldest_first_with_readable_reasons(
    moderator_client,
) -> None:
    now = timezone.now()
    newer = SignatureFactory(name="Newer Held", held=True, flags="ip_burst", created_at=now)
    older = SignatureFactory(
        name="Older Held", held=True, flags="disposable", created_at=now - timedelta(hours=3)
    )
    SignatureFactory(name="Not Held", confirmed=True)
    response = moderator_client.get(QUEUE)
    assert response.status_code == 200
    assert [s.pk for s in response.context["cl"].result_list] == [older.pk, newer.pk]
    page = _page(response)
    assert "Not Held" not in page
    assert "Disposable email domain" in page
    assert "Burst from one network address" in page
    # The queue is on the admin's front page for moderators, and opens each signature.
    assert QUEUE in _page(moderator_client.get(reverse("admin:index")))
    change = reverse("admin:petitions_flaggedsignature_change", args=[older.pk])
    assert "Disposable email domain" in _page(moderator_client.get(change))


def test_acting_from_the_queue_empties_it(moderator_client) -> None:
    petition = PetitionFactory()
    held = SignatureFactory.create_batch(3, petition=petition, held=True, flags="domain_burst")
    response = _act(moderator_client, QUEUE, "reject_with_reason", held, apply="1", reason="Bots")
    assert _messages(response) == ["Rejected 3 signatures."]
    assert list(response.context["cl"].result_list) == []


# --- Letters' individual signatures ---------------------------------------------------------------


def test_letter_signatures_have_the_same_actions_and_filters(moderator_client) -> None:
    held = IndividualSignatureFactory(name="Held Expert", held=True, flags="disposable")
    IndividualSignatureFactory(name="Fine Expert", confirmed=True, letter=held.letter)
    url = reverse("admin:letters_individualsignature_changelist")
    page = _page(moderator_client.get(url, {"flag": "disposable"}))
    assert "Held Expert" in page and "Fine Expert" not in page
    response = _act(moderator_client, url, "reject_with_reason", [held], apply="1", reason="Fake")
    assert _messages(response) == ["Rejected 1 signature."]
    held.refresh_from_db()
    assert held.status == IndividualSignature.Status.REJECTED
    assert LogEntry.objects.filter(object_id=str(held.pk)).exists()


# --- Permissions ----------------------------------------------------------------------------------


def test_campaign_editors_cannot_see_or_moderate_signatures(editor_client) -> None:
    signature = SignatureFactory(held=True)
    assert editor_client.get(SIGNATURES).status_code == 403
    assert editor_client.get(QUEUE).status_code == 403
    action = {"action": "mark_spam", "_selected_action": [signature.pk]}
    assert editor_client.post(SIGNATURES, action).status_code == 403
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING


def test_staff_who_may_only_view_signatures_get_no_actions(client, moderator) -> None:
    moderator.groups.clear()
    moderator.user_permissions.add(Permission.objects.get(codename="view_signature"))
    client.force_login(moderator)
    page = _page(client.get(SIGNATURES))
    assert 'value="reject_with_reason"' not in page
    signature = SignatureFactory(held=True)
    client.post(SIGNATURES, {"action": "mark_spam", "_selected_action": [signature.pk]})
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING


# --- The audit log --------------------------------------------------------------------------------


def test_the_audit_log_shows_a_bulk_action_and_cannot_be_edited(
    moderator_client, moderator, admin_client
) -> None:
    signatures = SignatureFactory.create_batch(2, held=True)
    _act(moderator_client, SIGNATURES, "reject_with_reason", signatures, apply="1", reason="Bots")
    page = _page(moderator_client.get(LOG))
    assert page.count("Rejected by a moderator. Reason: Bots") == 2
    assert moderator.email in page
    entry = LogEntry.objects.filter(user=moderator).first()
    # Read-only for everyone, superusers included.
    for client in (moderator_client, admin_client):
        change = reverse("admin:admin_logentry_change", args=[entry.pk])
        assert client.get(change).status_code == 200
        assert client.post(change, {"change_message": "nothing happened"}).status_code == 403
        assert client.get(reverse("admin:admin_logentry_add")).status_code == 403
        delete = reverse("admin:admin_logentry_delete", args=[entry.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert "Bots" in entry.change_message
    # Filters by user and action work.
    filtered = moderator_client.get(LOG, {"user__id__exact": str(moderator.pk), "action_flag": 2})
    assert len(filtered.context["cl"].result_list) == 2


def test_organization_and_cosignature_decisions_are_logged(moderator_client, moderator) -> None:
    organization = PendingOrganizationFactory()
    _act(moderator_client, reverse("admin:accounts_organization_changelist"), "verify",
         [organization])  # fmt: skip
    cosignature = OrganizationSignatureFactory()
    _act(moderator_client, reverse("admin:letters_organizationsignature_changelist"), "reject",
         [cosignature], apply="1", reason="Not a real group")  # fmt: skip
    logged = {
        (entry.content_type.model_class(), entry.object_id): entry.change_message
        for entry in LogEntry.objects.filter(user=moderator)
    }
    assert logged == {
        (Organization, str(organization.pk)): "Verified.",
        (OrganizationSignature, str(cosignature.pk)): "Rejected. Reason: Not a real group",
    }


# --- Export ---------------------------------------------------------------------------------------


def _export_url(petition: Petition) -> str:
    return reverse("admin:petitions_petition_export_signatures", args=[petition.pk])


def _rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_export_streams_every_signature_with_formulas_neutralized(
    moderator_client, moderator
) -> None:
    petition = PetitionFactory(slug="ring")
    SignatureFactory(
        petition=petition,
        name='=HYPERLINK("http://evil.example","click")',
        email="a@example.org",
        postal_code="94612",
        confirmed=True,
        consent_updates=True,
    )
    SignatureFactory(
        petition=petition, name="Zoë Ölçer", email="@b@example.org", held=True, flags="no_pow"
    )
    SignatureFactory(name="Other Petition")
    response = moderator_client.get(_export_url(petition))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="ring-signatures.csv"' in response["Content-Disposition"]
    header, first, second = _rows(response)
    assert header[:3] == ["Name", "Email", "Name shown as"]
    row = dict(zip(header, first, strict=True))
    assert row["Name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["Status"] == "Confirmed"
    assert row["Postal code"] == "94612"
    assert row["Consents to updates"] == "yes"
    assert row["Confirmed at"]
    other = dict(zip(header, second, strict=True))
    assert other["Name"] == "Zoë Ölçer"
    assert other["Email"] == "'@b@example.org"
    assert other["Held for review"] == "yes"
    assert other["Flags"] == "No proof of work (JavaScript off)"
    assert LogEntry.objects.filter(user=moderator, object_id=str(petition.pk)).exists()


def test_export_quotes_every_cell_so_a_semicolon_never_starts_a_formula(moderator_client) -> None:
    """Unquoted, "x;=HYPERLINK(A1)" becomes two cells, the second a formula, in a spreadsheet
    whose list separator is ";" (Italian Excel): every cell is quoted, and what follows a ";"
    gets an apostrophe as a cell's start does."""
    petition = PetitionFactory()
    SignatureFactory(petition=petition, name="Mario Rossi;=HYPERLINK(A1)&cmd|' /C calc'!A0")
    response = moderator_client.get(_export_url(petition))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    header_line, data_line = body.splitlines()
    for line in (header_line, data_line):
        cells = next(csv.reader(io.StringIO(line), delimiter=";"))
        assert not [cell for cell in cells if cell.lstrip().startswith(("=", "+", "-", "@"))]
    assert data_line.startswith("\"Mario Rossi;'=HYPERLINK(A1)")


def test_export_needs_the_export_permission(editor_client, moderator_client) -> None:
    petition = PetitionFactory()
    change = reverse("admin:petitions_petition_change", args=[petition.pk])
    # The campaign editor may edit the petition, but sees no button and gets no file.
    assert _export_url(petition) not in _page(editor_client.get(change))
    assert editor_client.get(_export_url(petition)).status_code == 403
    assert _export_url(petition) in _page(moderator_client.get(change))


def test_export_of_an_unknown_petition_is_not_an_error(moderator_client) -> None:
    response = moderator_client.get(
        reverse("admin:petitions_petition_export_signatures", args=[987_654])
    )
    assert response.status_code == 302


def _bulk_signatures(petition: Petition, count: int) -> None:
    """`count` signatures in one INSERT ... SELECT, to keep the test about memory, not setup."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO petitions_signature (
                petition_id, name, email, canonical_email, postal_code, country, display,
                consent_updates, comment, region, locality, status, language, ip_hash,
                created_at, confirmed_at, counted, flags, held,
                moderation_reason
            )
            SELECT %s, 'Signer number ' || n, 'signer' || n || '@example.org',
                   'signer' || n || '@example.org', '94612', 'US', 'short', true, '', 'CA',
                   'Oakland', 'confirmed', 'en', '', now(), now(), false, '', false, ''
            FROM generate_series(1, %s) AS n
            """,
            [petition.pk, count],
        )


def _export_peak(client, petition: Petition) -> tuple[int, int]:
    """Stream a whole export; return (rows, peak bytes allocated while streaming)."""
    tracemalloc.start()
    try:
        response = client.get(_export_url(petition))
        lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return lines - 1, peak


def test_export_memory_stays_flat_as_signatures_grow(moderator_client) -> None:
    small, large = PetitionFactory(), PetitionFactory()
    _bulk_signatures(small, 4_000)
    _bulk_signatures(large, 40_000)
    small_rows, small_peak = _export_peak(moderator_client, small)
    large_rows, large_peak = _export_peak(moderator_client, large)
    assert (small_rows, large_rows) == (4_000, 40_000)
    # Ten times the rows; read a chunk at a time, the peak barely moves (all at once, it
    # would be about ten times as high).
    assert large_peak < 2.5 * small_peak, (small_peak, large_peak)


# --- The campaign and delivery actions are in the audit log too -------------------------------


def _logged(user, obj) -> list[str]:
    return list(
        LogEntry.objects.filter(
            user=user,
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
        ).values_list("change_message", flat=True)
    )


def test_publishing_a_petition_update_from_the_admin_is_in_the_audit_log_once(
    editor_client, campaign_editor
) -> None:
    update = PetitionUpdate.objects.create(
        petition=PetitionFactory(), title="We delivered it", body="Thank you.", email_signers=False
    )
    url = reverse("admin:petitions_petitionupdate_changelist")
    for _ in range(2):  # the second finds it published, and neither publishes nor logs
        response = _act(editor_client, url, "publish", [update])
        assert response.status_code == 200
    update.refresh_from_db()
    assert update.published_at is not None
    assert _logged(campaign_editor, update) == [
        "Published, and signers who asked for updates emailed."
    ]


def test_publishing_a_response_from_the_admin_is_in_the_audit_log(
    editor_client, campaign_editor
) -> None:
    response = Response.objects.create(
        petition=PetitionFactory(), target=TargetFactory(), text="We hear you."
    )
    _act(editor_client, reverse("admin:petitions_response_changelist"), "publish", [response])
    response.refresh_from_db()
    assert response.update_id is not None
    assert _logged(campaign_editor, response) == [
        "Published, and signers who asked for updates emailed."
    ]


def test_retrying_deliveries_from_the_admin_logs_the_failed_ones_it_retried(
    admin_client, admin_user
) -> None:
    target = TargetFactory()
    petition = PetitionFactory(targets=[target])
    failed = Delivery.objects.create(petition=petition, target=target, period="a", status="failed")
    sent = Delivery.objects.create(
        petition=petition, target=target, period="b", status="sent", sent_at=timezone.now()
    )
    url = reverse("admin:petitions_delivery_changelist")
    _act(admin_client, url, "retry_failed", [failed, sent])
    assert _logged(admin_user, failed) == ["Failed delivery sent again."]
    assert _logged(admin_user, sent) == []
