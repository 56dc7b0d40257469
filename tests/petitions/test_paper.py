"""Paper signatures (petitions.services.paper): typing a batch line by line, finishing it, the
counter bringing it into the paper count, one person counted once (online and paper in both
orders, and across sponsors' batches), routing to targets, deliveries, personal data and
retention, staff's export, and the CSV import and its command."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import User
from mechanisms.csv_import import FileRefused
from mechanisms.deliveries import delivery_email_owe
from mechanisms.personal_data import (
    personal_data_anonymize_expired,
    personal_records_list,
    personal_records_withdraw,
)
from petitions import routing
from petitions.exports import petition_signatures_csv
from petitions.importers.paper import paper_signatures_import
from petitions.models import (
    Delivery,
    PaperBatch,
    PaperSignature,
    Petition,
    PetitionMilestone,
    Signature,
)
from petitions.services import deliveries, paper
from petitions.services.campaigns import petition_counts_and_milestones_update
from petitions.services.counting import petition_counts_update, petition_recount
from petitions.services.paper import PaperRefused, PaperRow
from tests.factories import OrganizationFactory, PetitionFactory, SignatureFactory, TargetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> User:
    return User.objects.create_superuser("paper-staff@cosign.test", "a-long-password")


def _batch(petition: Petition, staff: User, **extra) -> PaperBatch:
    return paper.paper_batch_create(
        petition=petition, organization=None, user=staff, sheet_reference="Stall, 12 May"
    )


def _row(line: int, name: str = "Anna Rossi", **extra) -> PaperRow:
    fields = {"sheet": 1, "line": line, "name": name, "postal_code": "94612", "country": "US"}
    return PaperRow(**(fields | extra))


def _finish(batch: PaperBatch, staff: User) -> None:
    """Finish a batch, then one run of the counter (which brings finished batches in)."""
    paper.paper_batch_finish(batch=batch, user=staff)
    petition_counts_and_milestones_update()


def _refreshed(petition: Petition) -> Petition:
    petition.refresh_from_db()
    return petition


# --- Typing a batch ------------------------------------------------------------------------------


def test_a_batch_keeps_its_place_and_counts_only_when_finished(staff) -> None:
    petition = PetitionFactory()
    batch = _batch(petition, staff)
    assert paper.paper_next_place(batch=batch) == (1, 1)
    for line in (1, 2, 3):
        paper.paper_row_add(batch=batch, row=_row(line, name=f"Person {line}"))
    assert paper.paper_next_place(batch=batch) == (1, 4)
    assert _refreshed(petition).paper_count == 0  # typed, not yet counted
    assert paper.paper_batch_finish(batch=batch, user=staff) == 3
    # Finishing closes the batch; the counter's next run counts it, not the finish itself.
    assert _refreshed(petition).paper_count == 0
    assert not PaperBatch.objects.get(pk=batch.pk).tallied
    petition_counts_and_milestones_update()
    petition = _refreshed(petition)
    assert petition.paper_count == 3
    assert PaperBatch.objects.get(pk=batch.pk).tallied
    assert petition.total_count == petition.signature_count + 3


def test_the_next_place_after_the_last_line_of_a_sheet_is_the_next_sheet(staff) -> None:
    batch = _batch(PetitionFactory(), staff)
    paper.paper_row_add(batch=batch, row=_row(paper.SHEET_LINES))
    assert paper.paper_next_place(batch=batch) == (2, 1)


def test_a_line_is_placed_by_its_postal_code(staff) -> None:
    batch = _batch(PetitionFactory(), staff)
    row = paper.paper_row_add(batch=batch, row=_row(1, postal_code=" 94612 "))
    assert (row.country.code, row.region, row.locality) == ("US", "CA", "Oakland")
    assert row.postal_code == "94612"


def test_a_line_typed_twice_is_refused_and_nothing_written(staff) -> None:
    batch = _batch(PetitionFactory(), staff)
    paper.paper_row_add(batch=batch, row=_row(1))
    with pytest.raises(ValidationError) as refused:
        paper.paper_row_add(batch=batch, row=_row(1, name="Someone Else"))
    assert "already typed" in str(refused.value.message_dict["line"])
    assert batch.rows.count() == 1


def test_one_email_twice_in_one_batch_is_refused_with_its_line(staff) -> None:
    batch = _batch(PetitionFactory(), staff)
    paper.paper_row_add(batch=batch, row=_row(3, email="anna@example.it"))
    with pytest.raises(ValidationError) as refused:
        paper.paper_row_add(batch=batch, row=_row(4, email="Anna+sheet@Example.it"))
    assert refused.value.message_dict["email"] == [
        "This email is already on line 3 of sheet 1 of this batch."
    ]
    assert batch.rows.count() == 1


def _org_batch(petition: Petition, organization, staff: User) -> PaperBatch:
    return paper.paper_batch_create(
        petition=petition, organization=organization, user=staff, sheet_reference=""
    )


def test_an_email_on_another_sponsors_batch_is_accepted_and_counted_once(staff) -> None:
    first_org, second_org = OrganizationFactory(), OrganizationFactory()
    petition = PetitionFactory()
    petition.sponsors.add(first_org, second_org)
    first = _org_batch(petition, first_org, staff)
    paper.paper_row_add(batch=first, row=_row(1, email="anna@example.it"))
    _finish(first, staff)
    second = _org_batch(petition, second_org, staff)
    # Accepted like any line: a refusal would tell the second sponsor the first one's sheets.
    paper.paper_row_add(batch=second, row=_row(1, email="Anna+street@Example.it"))
    paper.paper_row_add(batch=second, row=_row(2, name="Giulia Verdi"))
    _finish(second, staff)
    petition = _refreshed(petition)
    assert petition.paper_count == 2  # Anna once, Giulia once
    # The earliest counted line is the one counted.
    assert not first.rows.get().duplicate
    assert second.rows.get(line=1).duplicate


@pytest.mark.parametrize("first_finished", ["typed first", "typed second"])
def test_across_batches_the_batch_counted_first_wins_whichever_was_typed_first(
    staff, first_finished
) -> None:
    petition = PetitionFactory()
    one, two = _batch(petition, staff), _batch(petition, staff)
    paper.paper_row_add(batch=one, row=_row(1, email="anna@example.it"))
    paper.paper_row_add(batch=two, row=_row(1, email="anna@example.it"))
    earlier, later = (one, two) if first_finished == "typed first" else (two, one)
    _finish(earlier, staff)
    assert _refreshed(petition).paper_count == 1
    _finish(later, staff)
    assert _refreshed(petition).paper_count == 1
    assert [row.duplicate for row in (earlier.rows.get(), later.rows.get())] == [False, True]
    # Both finished before one counter run: still once.
    third = _batch(petition, staff)
    paper.paper_row_add(batch=third, row=_row(1, email="anna@example.it"))
    paper.paper_batch_finish(batch=third, user=staff)
    fourth = _batch(petition, staff)
    paper.paper_row_add(batch=fourth, row=_row(1, email="anna@example.it"))
    paper.paper_batch_finish(batch=fourth, user=staff)
    petition_counts_and_milestones_update()
    assert _refreshed(petition).paper_count == 1


def test_online_wins_over_paper_lines_on_several_batches(staff) -> None:
    petition = PetitionFactory()
    for _ in range(2):
        batch = _batch(petition, staff)
        paper.paper_row_add(batch=batch, row=_row(1, email="anna@example.it"))
        _finish(batch, staff)
    assert _refreshed(petition).total_count == 1
    SignatureFactory(petition=petition, confirmed=True, email="anna@example.it")
    petition_counts_update()
    petition = _refreshed(petition)
    assert (petition.signature_count, petition.paper_count, petition.total_count) == (1, 0, 1)
    assert PaperSignature.objects.filter(duplicate=True).count() == 2


def test_a_withdrawn_first_paper_line_lets_the_later_one_count(staff) -> None:
    petition = PetitionFactory()
    first, second = _batch(petition, staff), _batch(petition, staff)
    paper.paper_row_add(batch=first, row=_row(1, email="anna@example.it"))
    paper.paper_row_add(batch=second, row=_row(1, email="anna@example.it"))
    _finish(first, staff)
    _finish(second, staff)
    (record, _other) = personal_records_list(canonical_email="anna@example.it")
    personal_records_withdraw(canonical_email="anna@example.it", refs=[record.ref])
    petition_recount(petition_id=petition.pk)
    assert _refreshed(petition).paper_count == 1
    assert not PaperSignature.objects.get().duplicate


def test_the_database_keeps_one_email_once_per_batch(staff) -> None:
    from django.db import IntegrityError, transaction

    batch = _batch(PetitionFactory(), staff)
    paper.paper_row_add(batch=batch, row=_row(1, email="anna@example.it"))
    row = PaperSignature.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        PaperSignature.objects.create(
            batch=batch,
            petition_id=batch.petition_id,
            sheet=1,
            line=2,
            name="Anna",
            email=row.email,
            canonical_email=row.canonical_email,
        )
    # Another batch of the same petition may hold it: the counter counts the person once.
    other = _batch(batch.petition, staff)
    PaperSignature.objects.create(
        batch=other,
        petition_id=batch.petition_id,
        sheet=1,
        line=1,
        name="Anna",
        email=row.email,
        canonical_email=row.canonical_email,
    )


def test_a_bad_line_says_why_by_field(staff) -> None:
    batch = _batch(PetitionFactory(postal_code_required=True), staff)
    with pytest.raises(ValidationError) as refused:
        paper.paper_row_add(
            batch=batch, row=_row(paper.SHEET_LINES + 1, name=" ", postal_code="", email="nope")
        )
    assert set(refused.value.message_dict) == {"name", "postal_code", "email", "line"}
    assert not batch.rows.exists()


def test_an_empty_batch_cannot_be_counted_and_a_counted_one_takes_no_more_lines(staff) -> None:
    batch = _batch(PetitionFactory(), staff)
    with pytest.raises(PaperRefused):
        paper.paper_batch_finish(batch=batch, user=staff)
    paper.paper_row_add(batch=batch, row=_row(1))
    paper.paper_batch_finish(batch=batch, user=staff)
    with pytest.raises(PaperRefused):
        paper.paper_row_add(batch=batch, row=_row(2))
    with pytest.raises(PaperRefused):
        paper.paper_batch_finish(batch=batch, user=staff)
    with pytest.raises(PaperRefused):
        paper.paper_row_delete(batch=batch, row_id=batch.rows.get().pk)
    assert batch.rows.count() == 1


def test_each_batch_is_in_the_audit_log_with_who_entered_it(staff) -> None:
    batch = _batch(PetitionFactory(), staff)
    paper.paper_row_add(batch=batch, row=_row(1))
    _finish(batch, staff)
    entries = LogEntry.objects.filter(object_id=str(batch.pk), user=staff).order_by("pk")
    messages = [entry.change_message for entry in entries]
    assert messages[0].startswith("Started a paper batch")
    assert messages[-1] == "Finished a paper batch of 1 line for counting."
    assert batch.entered_by == staff


def test_paper_counts_reach_goals_and_milestones(staff) -> None:
    petition = PetitionFactory(goal=3)
    batch = _batch(petition, staff)
    for line in (1, 2, 3):
        paper.paper_row_add(batch=batch, row=_row(line))
    _finish(batch, staff)
    petition = _refreshed(petition)
    assert petition.progress_percent == 100
    assert PetitionMilestone.objects.filter(petition=petition, goal=3).exists()


# --- Online and paper, counted once --------------------------------------------------------------


def test_paper_after_online_is_recorded_but_not_counted(staff) -> None:
    petition = PetitionFactory()
    SignatureFactory(petition=petition, confirmed=True, email="Marco.Bianchi@example.it")
    petition_counts_update()
    batch = _batch(petition, staff)
    paper.paper_row_add(batch=batch, row=_row(1, email="marco.bianchi+paper@example.it"))
    paper.paper_row_add(batch=batch, row=_row(2, name="Giulia Verdi"))
    _finish(batch, staff)
    petition = _refreshed(petition)
    assert (petition.signature_count, petition.paper_count, petition.total_count) == (1, 1, 2)
    assert batch.rows.get(line=1).duplicate


def test_online_after_paper_counts_the_pair_once(staff) -> None:
    petition = PetitionFactory()
    batch = _batch(petition, staff)
    paper.paper_row_add(batch=batch, row=_row(1, email="marco@example.it"))
    _finish(batch, staff)
    assert _refreshed(petition).total_count == 1
    # The same person signs online later: the counter takes the online one and drops the
    # paper one from the count, without the signing itself reading paper rows.
    SignatureFactory(petition=petition, confirmed=True, email="marco@example.it")
    petition_counts_update()
    petition = _refreshed(petition)
    assert (petition.signature_count, petition.paper_count, petition.total_count) == (1, 0, 1)


def test_a_pending_online_signature_does_not_displace_the_paper_one(staff) -> None:
    petition = PetitionFactory()
    SignatureFactory(petition=petition, email="marco@example.it")  # never confirmed
    batch = _batch(petition, staff)
    paper.paper_row_add(batch=batch, row=_row(1, email="marco@example.it"))
    _finish(batch, staff)
    assert _refreshed(petition).total_count == 1


def test_the_recount_counts_paper_again_once_the_online_twin_is_withdrawn(staff) -> None:
    petition = PetitionFactory()
    SignatureFactory(petition=petition, confirmed=True, email="marco@example.it")
    petition_counts_update()
    batch = _batch(petition, staff)
    paper.paper_row_add(batch=batch, row=_row(1, email="marco@example.it"))
    _finish(batch, staff)
    assert _refreshed(petition).paper_count == 0
    # Withdraw only the online signature (its record, not the paper one).
    online = Signature.objects.get(petition=petition)
    personal_records_withdraw(canonical_email="marco@example.it", refs=[f"petition:{online.pk}"])
    petition_recount(petition_id=petition.pk)
    petition = _refreshed(petition)
    assert (petition.signature_count, petition.paper_count) == (0, 1)


# --- Routing and delivering ----------------------------------------------------------------------


def test_targets_count_their_paper_constituents(staff) -> None:
    oakland = TargetFactory()
    berkeley = TargetFactory(title="Mayor of Berkeley", locality="Berkeley", email="m@b.gov")
    petition = PetitionFactory(targets=[oakland, berkeley])
    batch = _batch(petition, staff)
    paper.paper_row_add(batch=batch, row=_row(1, postal_code="94612"))  # Oakland
    paper.paper_row_add(batch=batch, row=_row(2, postal_code="94704"))  # Berkeley
    paper.paper_row_add(batch=batch, row=_row(3, postal_code="94612", email="d@example.it"))
    SignatureFactory(petition=petition, confirmed=True, email="d@example.it")
    petition_counts_update()
    # Not counted yet: the batch is still being typed.
    assert routing.paper_constituents(petition_id=petition.pk, target=oakland).count() == 0
    _finish(batch, staff)
    assert routing.paper_constituents(petition_id=petition.pk, target=oakland).count() == 1
    counts = routing.target_counts(petition=_refreshed(petition), targets=[oakland, berkeley])
    by_title = {row.target.title: row.count for row in counts}
    # Line 3's signer also signed online (unplaced there): counted once, online, not here.
    assert by_title == {"Mayor of Oakland": 1, "Mayor of Berkeley": 1}


def test_a_delivery_tallies_and_lists_paper_signatures(staff) -> None:
    oakland = TargetFactory()
    petition = PetitionFactory(targets=[oakland], demand="End it.")
    SignatureFactory(
        petition=petition, confirmed=True, country="US", region="CA", locality="Oakland"
    )
    batch = _batch(petition, staff)
    paper.paper_row_add(batch=batch, row=_row(1, name="Anna Maria Rossi", postal_code="94612"))
    _finish(batch, staff)
    delivery = Delivery.objects.create(petition=petition, target=oakland, period="manual")
    delivery_email_owe(
        kind=deliveries.DELIVERY,
        delivery_id=delivery.pk,
        to=oakland.email,
        language="en",
        queue=False,
    )
    deliveries.delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.total_count == 2
    (message,) = mail.outbox
    (attachment,) = message.attachments
    rows = list(csv.reader(io.StringIO(attachment[1])))
    paper_rows = [row for row in rows if row[-1] == "Signed on paper"]
    assert paper_rows == [
        [
            "Anna R.",
            "Oakland",
            "CA",
            timezone.localdate(batch.counted_at).isoformat(),
            "Signed on paper",
        ]
    ]


# --- Personal data ------------------------------------------------------------------------------


def test_a_person_sees_and_withdraws_their_paper_signature(staff) -> None:
    petition = PetitionFactory()
    batch = _batch(petition, staff)
    paper.paper_row_add(batch=batch, row=_row(1, email="anna@example.it"))
    paper.paper_row_add(batch=batch, row=_row(2, name="Other Person"))
    _finish(batch, staff)
    (record,) = [r for r in personal_records_list(canonical_email="anna@example.it")]
    assert record.kind == "paper"
    assert record.data["signed_on"] == "paper"
    assert record.data["sheet"] == 1 and record.data["line"] == 1
    assert personal_records_withdraw(canonical_email="anna@example.it", refs=[record.ref]) == 1
    assert _refreshed(petition).paper_count == 1
    assert batch.rows.get().name == "Other Person"


def test_retention_anonymizes_paper_signatures_and_keeps_the_count(staff, settings) -> None:
    petition = PetitionFactory()
    batch = _batch(petition, staff)
    paper.paper_row_add(batch=batch, row=_row(1, email="anna@example.it"))
    _finish(batch, staff)
    Petition.objects.filter(pk=petition.pk).update(
        status=Petition.Status.CLOSED,
        closed_at=timezone.now() - timedelta(days=settings.SIGNATURE_RETENTION_DAYS + 1),
    )
    done = personal_data_anonymize_expired()
    assert done.anonymized["paper"] == 1
    row = PaperSignature.objects.get()
    assert (row.name, row.email, row.canonical_email, row.postal_code) == ("", "", "", "")
    assert row.locality == "Oakland" and row.anonymized_at is not None
    petition_recount(petition_id=petition.pk)
    assert _refreshed(petition).paper_count == 1


def test_the_staff_export_marks_paper_signatures(staff) -> None:
    petition = PetitionFactory()
    SignatureFactory(petition=petition, confirmed=True, name="Online Person")
    batch = _batch(petition, staff)
    paper.paper_row_add(batch=batch, row=_row(1, name="Paper Person", email="p@example.it"))
    _finish(batch, staff)
    rows = list(csv.reader(io.StringIO("".join(petition_signatures_csv(petition_id=petition.pk)))))
    (on_paper,) = [row for row in rows if row[0] == "Paper Person"]
    assert on_paper[1] == "p@example.it"
    assert on_paper[6] == "On paper, counted"
    assert any(row[0] == "Online Person" for row in rows)


# --- CSV import ----------------------------------------------------------------------------------

HEADER = "sheet,line,name,postal_code,country,email\n"


def test_a_csv_with_one_bad_row_writes_nothing_and_lists_every_problem(staff) -> None:
    petition = PetitionFactory()
    data = (
        HEADER
        + "1,1,Anna Rossi,94612,US,anna@example.it\n"
        + "1,2,,94612,US,\n"
        + "1,1,Marco Bianchi,94612,XX,not-an-email\n"
        + "1,3,Giulia Verdi,94612,US,ANNA@example.it\n"
    ).encode()
    result = paper_signatures_import(
        data=data, petition=petition, organization=None, entered_by=staff
    )
    assert result.refused
    problems = {problem.line: problem.reason for problem in result.bad_rows}
    assert set(problems) == {3, 4, 5}
    assert "name is empty" in problems[3]
    assert "duplicate of line 2" in problems[4] and "unknown country" in problems[4]
    assert "not an email" in problems[4]
    assert "duplicate of line 2 (same email)" in problems[5]
    assert not PaperBatch.objects.exists() and not PaperSignature.objects.exists()


def test_a_good_csv_is_one_counted_batch(staff) -> None:
    petition = PetitionFactory()
    SignatureFactory(petition=petition, confirmed=True, email="marco@example.it")
    petition_counts_update()
    data = (
        HEADER
        + "1,1,Anna Rossi,94612,US,\n"
        + "1,2,Marco Bianchi,94612,US,marco@example.it\n"
        + ",3,Giulia Verdi,,,\n"
    ).encode("utf-8-sig")
    result = paper_signatures_import(
        data=data, petition=petition, organization=None, entered_by=staff
    )
    assert not result.refused and result.created == 3
    assert result.batch is not None and result.batch.counted_at is not None
    assert _refreshed(petition).paper_count == 0  # the counter brings it in
    petition_counts_and_milestones_update()
    assert _refreshed(petition).total_count == 1 + 2
    assert LogEntry.objects.filter(object_id=str(result.batch.pk)).exists()


def test_a_csv_with_an_email_on_another_batch_is_accepted_and_counted_once(staff) -> None:
    petition = PetitionFactory()
    typed = _batch(petition, staff)
    paper.paper_row_add(batch=typed, row=_row(1, email="anna@example.it"))
    data = (HEADER + "1,1,Anna Rossi,94612,US,ANNA@example.it\n1,2,Marco,94612,US,\n").encode()
    result = paper_signatures_import(
        data=data, petition=petition, organization=None, entered_by=staff
    )
    assert not result.refused and result.created == 2
    petition_counts_and_milestones_update()
    assert _refreshed(petition).paper_count == 2
    # The typed batch, finished after the import, does not count Anna a second time.
    _finish(typed, staff)
    assert _refreshed(petition).paper_count == 2
    assert typed.rows.get().duplicate


def test_a_csv_without_the_columns_is_refused(staff) -> None:
    with pytest.raises(FileRefused):
        paper_signatures_import(
            data=b"name,email\nAnna,\n",
            petition=PetitionFactory(),
            organization=None,
            entered_by=staff,
        )


def test_the_command_prints_progress_and_a_summary(staff, tmp_path, capsys) -> None:
    petition = PetitionFactory()
    organization = OrganizationFactory()
    petition.sponsors.add(organization)
    file = tmp_path / "sheets.csv"
    file.write_text(HEADER + "".join(f"1,{n},Person {n},94612,US,\n" for n in range(1, 6)))
    call_command(
        "import_paper_signatures",
        petition.slug,
        str(file),
        "--by",
        staff.email,
        "--organization",
        organization.slug,
        "--progress-every",
        "2",
    )
    out = capsys.readouterr().out
    assert "Checked 2 of 5 rows." in out and "Saved 5 of 5 rows." in out
    assert "Imported 5 paper signatures" in out and "as a finished batch" in out
    assert PaperBatch.objects.get().organization == organization


def test_the_command_refuses_a_bad_file_and_skipping_rows(staff, tmp_path, capsys) -> None:
    petition = PetitionFactory()
    file = tmp_path / "sheets.csv"
    file.write_text(HEADER + "1,1,,94612,US,\n")
    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("import_paper_signatures", petition.slug, str(file), "--by", staff.email)
    assert "Line 2: name is empty" in capsys.readouterr().err
    with pytest.raises(CommandError, match="whole or not at all"):
        call_command(
            "import_paper_signatures",
            petition.slug,
            str(file),
            "--by",
            staff.email,
            "--skip-bad-rows",
        )
    assert not PaperSignature.objects.exists()


def test_the_admin_refuses_an_email_twice_in_a_batch_only(staff) -> None:
    from petitions.admin.paper import PaperSignatureForm

    petition = PetitionFactory()
    first, second = _batch(petition, staff), _batch(petition, staff)
    paper.paper_row_add(batch=first, row=_row(1, email="anna@example.it"))
    data = {"sheet": 1, "line": 2, "name": "Anna", "postal_code": "", "country": ""}
    data |= {"email": "ANNA@example.it"}
    same = PaperSignatureForm(data=data)
    same.parent_batch = first  # type: ignore[attr-defined]
    assert same.errors["email"] == ["This email is already on another line of this batch."]
    other = PaperSignatureForm(data=data)
    other.parent_batch = second  # type: ignore[attr-defined]
    assert other.is_valid(), other.errors
