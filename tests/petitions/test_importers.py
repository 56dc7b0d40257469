from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models

from accounts.models import User
from petitions.importers.targets import targets_import
from petitions.jurisdiction import Place, postal_code_resolve
from petitions.models import PostalArea, Target
from tests.admin_forms import audit_entries

pytestmark = pytest.mark.django_db

TARGETS_HEADER = "name,title,level,country,region,locality,email,contact_url\n"
OAKLAND_MAYOR = (
    "Barbara Lee,Mayor of Oakland,local,US,CA,Oakland,mayor@oaklandca.example,"
    "https://www.oaklandca.gov/officials/mayor\n"
)
CA_GOVERNOR = "Gavin Newsom,Governor of California,state,US,CA,,governor@ca.example,\n"
SENATE = "Senate Judiciary Committee,US Senate Judiciary Committee,national,US,,,,\n"
RING = "Ring LLC,Ring,company,,,,press@ring.example,https://ring.example/contact\n"

POSTAL_HEADER = "country,postal_code,region,locality\n"
POSTAL_ROWS = "DE,10115,BE,Berlin\nGB,sw1a  1aa,ENG,London\nIT,00184,RM,Roma\n"


@dataclass
class Run:
    out: str
    err: str
    error: CommandError | None


def _run(command: str, path: Path, *args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, str(path), *args, stdout=out, stderr=err)
    except CommandError as error:
        return Run(out.getvalue(), err.getvalue(), error)
    return Run(out.getvalue(), err.getvalue(), None)


def _csv(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- Postal codes ------------------------------------------------------------------------------


def test_postal_codes_import_and_resolve(tmp_path) -> None:
    run = _run("import_postal_codes", _csv(tmp_path, POSTAL_HEADER + POSTAL_ROWS))
    assert run.error is None
    assert "Imported 3 postal codes from" in run.out
    assert "3 new, 0 updated, 0 unchanged." in run.out
    assert run.err == ""
    # Stored as signers' codes are matched: upper-case, single spaces.
    assert PostalArea.objects.get(country="GB").postal_code == "SW1A 1AA"
    assert postal_code_resolve(country="GB", postal_code="Sw1a 1aa") == Place(
        country="GB", region="ENG", locality="London"
    )


def test_postal_codes_reimport_updates_instead_of_duplicating(tmp_path) -> None:
    _run("import_postal_codes", _csv(tmp_path, POSTAL_HEADER + POSTAL_ROWS))
    importer = User.objects.create_user("ops@cosign.test", is_staff=True)
    corrected = POSTAL_ROWS.replace("Roma", "Rome") + "FR,75001,IDF,Paris\n"
    run = _run(
        "import_postal_codes", _csv(tmp_path, POSTAL_HEADER + corrected), "--by", "ops@cosign.test"
    )
    assert run.error is None
    assert "Imported 4 postal codes" in run.out
    assert "1 new, 1 updated, 2 unchanged." in run.out
    assert PostalArea.objects.count() == 4
    rome = PostalArea.objects.get(country="IT", postal_code="00184")
    assert rome.locality == "Rome"
    # Its signers now reach Rome's officials: the audit log says from where, and who moved it.
    [entry] = audit_entries(rome)
    assert entry.user == importer
    assert "“Roma” to “Rome”" in entry.change_message


def test_a_file_moving_postal_codes_without_saying_who_imports_it_is_refused(tmp_path) -> None:
    _run("import_postal_codes", _csv(tmp_path, POSTAL_HEADER + POSTAL_ROWS))
    moved = POSTAL_ROWS.replace("Roma", "Milano") + "FR,75001,IDF,Paris\n"
    run = _run("import_postal_codes", _csv(tmp_path, POSTAL_HEADER + moved))
    assert run.error is not None
    assert "moves 1 postal code already loaded" in str(run.error)
    assert "--by EMAIL" in str(run.error)
    # Nothing imported, the new row neither.
    assert PostalArea.objects.get(country="IT", postal_code="00184").locality == "Roma"
    assert not PostalArea.objects.filter(country="FR").exists()


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("XX,12345,R,Town", "unknown country code 'XX'"),
        ("Germany,12345,R,Town", "unknown country code 'Germany'"),
        (",12345,R,Town", "country is empty"),
        ("DE,Berlin,BE,Berlin", "postal code 'Berlin' has an invalid shape"),
        ("DE,1,BE,Berlin", "postal code '1' has an invalid shape"),
        ("DE,+49 30 1234567,BE,Berlin", "postal code '+49 30 1234567' has an invalid shape"),
        ("DE,,BE,Berlin", "postal_code is empty"),
        ("DE,12345,,Berlin", "region is empty"),
        ("DE,12345,BE,", "locality is empty"),
        ("DE,12345,BE," + "x" * 101, "locality is longer than 100 characters"),
        ("US,94612,CA,Oakland", "US ZIP codes come with the zipcodes package"),
        ("DE,12345,BE,Berlin,extra", "has 5 cells where the header has 4"),
        ("DE,10115,BE,Berlin again", "duplicate of line 2 (same country and postal code)"),
    ],
)
def test_postal_codes_with_a_bad_row_import_nothing(tmp_path, row, reason) -> None:
    path = _csv(tmp_path, POSTAL_HEADER + POSTAL_ROWS + row + "\n")
    run = _run("import_postal_codes", path)
    assert run.error is not None
    assert f"Line 5: {reason}" in run.err
    assert "Nothing imported" in str(run.error)
    assert "1 of 4 rows are bad" in str(run.error)
    assert "--skip-bad-rows to import the 3 good rows" in str(run.error)
    assert PostalArea.objects.count() == 0


def test_postal_codes_skip_bad_rows_imports_the_good_ones(tmp_path) -> None:
    text = POSTAL_HEADER + "XX,12345,R,Town\n" + POSTAL_ROWS + "DE,Berlin,BE,Berlin\n"
    run = _run("import_postal_codes", _csv(tmp_path, text), "--skip-bad-rows")
    assert run.error is None
    assert "Line 2: unknown country code 'XX'" in run.err
    assert "Line 6: postal code 'Berlin' has an invalid shape" in run.err
    assert "Imported 3 postal codes" in run.out
    assert "2 bad rows were skipped" in run.out
    assert PostalArea.objects.count() == 3


def test_postal_codes_header_missing_a_column_is_refused(tmp_path) -> None:
    run = _run("import_postal_codes", _csv(tmp_path, "country,postal_code,locality\nDE,1,B\n"))
    assert run.error is not None
    message = str(run.error)
    assert "lacks the column(s) region" in message
    assert "country,postal_code,region,locality" in message
    assert PostalArea.objects.count() == 0


def test_header_only_file_imports_nothing_and_says_so(tmp_path) -> None:
    run = _run("import_targets", _csv(tmp_path, TARGETS_HEADER + "\n,,,,,,,\n"))
    assert run.error is None
    assert "Imported 0 targets" in run.out
    assert "no rows" in run.out


def test_missing_file_is_a_clear_error(tmp_path) -> None:
    run = _run("import_postal_codes", tmp_path / "nowhere.csv")
    assert run.error is not None
    assert "Cannot read" in str(run.error)


def test_progress_is_printed_every_n_rows(tmp_path) -> None:
    rows = "".join(f"DE,{10000 + n},BE,Berlin\n" for n in range(5))
    run = _run("import_postal_codes", _csv(tmp_path, POSTAL_HEADER + rows), "--progress-every", "2")
    assert "Checked 2 of 5 rows." in run.out
    assert "Checked 4 of 5 rows." in run.out
    assert "Saved 4 of 5 rows." not in run.out  # saved in one batch: passes 2 and 4 at once
    assert "Saved 5 of 5 rows." in run.out
    assert run.out.strip().splitlines()[-1].startswith("Imported 5 postal codes")


# --- Targets -----------------------------------------------------------------------------------


def test_targets_import_with_counts_in_the_summary(tmp_path) -> None:
    text = TARGETS_HEADER + OAKLAND_MAYOR + CA_GOVERNOR + RING
    run = _run("import_targets", _csv(tmp_path, text))
    assert run.error is None
    assert "Imported 3 targets from" in run.out
    assert "3 new, 0 updated, 0 unchanged." in run.out
    mayor = Target.objects.get(level=Target.Level.LOCAL)
    assert (mayor.country, mayor.region, mayor.locality) == ("US", "CA", "Oakland")
    assert mayor.email == "mayor@oaklandca.example"
    assert mayor.contact_url == "https://www.oaklandca.gov/officials/mayor"
    assert mayor.active
    assert Target.objects.get(level=Target.Level.COMPANY).country == ""


def test_cells_are_stripped_and_formulas_kept_as_text(tmp_path) -> None:
    row = ' =HYPERLINK("http://evil.example") , Mayor of Oakland ,LOCAL, us ,CA, Oakland ,,\n'
    run = _run("import_targets", _csv(tmp_path, TARGETS_HEADER + row))
    assert run.error is None
    target = Target.objects.get()
    assert target.name == '=HYPERLINK("http://evil.example")'
    assert (target.title, target.level, target.country) == ("Mayor of Oakland", "local", "US")
    assert target.locality == "Oakland"


def test_a_contact_page_is_stored_as_a_browser_reads_it(tmp_path) -> None:
    row = "A,Mayor of Oakland,local,US,CA,Oakland,,HTTPS://WWW.OaklandCA.gov:443\n"
    run = _run("import_targets", _csv(tmp_path, TARGETS_HEADER + row))
    assert run.error is None
    assert Target.objects.get().contact_url == "https://www.oaklandca.gov/"


def test_targets_without_email_are_imported_with_a_warning(tmp_path) -> None:
    run = _run("import_targets", _csv(tmp_path, TARGETS_HEADER + OAKLAND_MAYOR + SENATE))
    assert run.error is None
    assert (
        "Line 3 (warning): US Senate Judiciary Committee has no email: "
        "will not receive deliveries until it has one"
    ) in run.err
    assert "1 target has no email and will not receive deliveries" in run.out
    assert Target.objects.count() == 2


def test_targets_reimport_updates_instead_of_duplicating(tmp_path) -> None:
    _run("import_targets", _csv(tmp_path, TARGETS_HEADER + OAKLAND_MAYOR + CA_GOVERNOR))
    first = Target.objects.get(level=Target.Level.LOCAL)
    # A new mayor in the same office, the office written in another case.
    new_mayor = "Someone Else,MAYOR OF OAKLAND,local,US,ca,oakland,new@oaklandca.example,\n"
    importer = User.objects.create_user("ops@cosign.test", is_staff=True)
    run = _run(
        "import_targets",
        _csv(tmp_path, TARGETS_HEADER + new_mayor + CA_GOVERNOR + RING),
        "--by",
        "OPS@cosign.test",
    )
    assert run.error is None
    assert "Imported 3 targets" in run.out
    assert "1 new, 1 updated, 1 unchanged." in run.out
    assert Target.objects.count() == 3
    mayor = Target.objects.get(pk=first.pk)
    assert (mayor.name, mayor.email, mayor.contact_url) == (
        "Someone Else",
        "new@oaklandca.example",
        "",
    )
    # Where the mayor's deliveries go changed: the audit log says from what to what, and who.
    [entry] = audit_entries(mayor)
    assert entry.user == importer
    assert entry.change_message == (
        "Imported from a CSV file. "
        "Delivery email changed from “mayor@oaklandca.example” to “new@oaklandca.example”. "
        "Region changed from “CA” to “ca”. Locality changed from “Oakland” to “oakland”."
    )
    assert [audit_entries(target) for target in Target.objects.exclude(pk=mayor.pk)] == [[], []]


def test_a_file_redirecting_a_target_without_saying_who_imports_it_is_refused(tmp_path) -> None:
    _run("import_targets", _csv(tmp_path, TARGETS_HEADER + OAKLAND_MAYOR))
    redirected = OAKLAND_MAYOR.replace("mayor@oaklandca.example", "me@evil.example")
    run = _run("import_targets", _csv(tmp_path, TARGETS_HEADER + redirected + CA_GOVERNOR))
    assert run.error is not None
    assert "changes the delivery email or place of 1 existing target" in str(run.error)
    assert "--by EMAIL" in str(run.error)
    # Nothing imported, the new row neither.
    assert list(Target.objects.values_list("email", flat=True)) == ["mayor@oaklandca.example"]
    assert not LogEntry.objects.exists()


def test_a_file_naming_an_importer_who_is_not_staff_is_refused(tmp_path) -> None:
    User.objects.create_user("someone@example.org")
    path = _csv(tmp_path, TARGETS_HEADER + OAKLAND_MAYOR)
    run = _run("import_targets", path, "--by", "someone@example.org")
    assert run.error is not None
    assert "no active staff account" in str(run.error)
    assert not Target.objects.exists()


def test_an_inactive_target_stays_inactive_when_updated(tmp_path) -> None:
    _run("import_targets", _csv(tmp_path, TARGETS_HEADER + OAKLAND_MAYOR))
    Target.objects.update(active=False)
    _run("import_targets", _csv(tmp_path, TARGETS_HEADER + OAKLAND_MAYOR.replace("Lee", "Le")))
    assert Target.objects.get().active is False


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("A,Mayor,mayor,US,CA,Oakland,,", "unknown level 'mayor' (expected one of: local, state"),
        ("A,Mayor,,US,CA,Oakland,,", "level is empty"),
        ("A,Mayor,local,XX,CA,Oakland,,", "unknown country code 'XX'"),
        ("A,Mayor,local,USA,CA,Oakland,,", "unknown country code 'USA'"),
        ("A,Mayor of Nowhere,local,US,CA,,,", "a local target needs a locality"),
        ("A,Mayor of Nowhere,local,US,,Oakland,,", "a local target needs a region"),
        ("A,Governor,state,US,,,,", "a state target needs a region"),
        ("A,Governor,state,,CA,,,", "a state target needs a country"),
        ("A,President,national,,,,,", "a national target needs a country"),
        ("A,Mayor,local,US,CA,Oakland,mayor@,", "malformed email address 'mayor@'"),
        ("A,Mayor,local,US,CA,Oakland,,oaklandca.gov", "malformed URL 'oaklandca.gov'"),
        ("A,Mayor,local,US,CA,Oakland,,javascript:alert(1)", "malformed URL"),
        (
            "A,Mayor,local,US,CA,Oakland,,https://evil.example\\@oaklandca.gov",
            "malformed URL 'https://evil.example\\\\@oaklandca.gov': A web address cannot contain "
            "a backslash",
        ),
        (
            "A,Mayor,local,US,CA,Oakland,,https://me@evil.example",
            "malformed URL 'https://me@evil.example': Remove the part before the @ sign",
        ),
        (",Mayor,local,US,CA,Oakland,,", "name is empty"),
        ("A,,local,US,CA,Oakland,,", "title is empty"),
        ("A,Mayor,local,US,CALIFORNIA-REPUBLIC-XX,Oakland,,", "region is longer than 20"),
        ("A,Mayor,local,US,CA,Oakland,,,", "has 9 cells where the header has 8"),
        (
            "Someone,mayor of oakland,local,US,CA,OAKLAND,,",
            "duplicate of line 2 (same level, country, region, locality and title)",
        ),
    ],
)
def test_targets_with_a_bad_row_import_nothing(tmp_path, row, reason) -> None:
    text = TARGETS_HEADER + OAKLAND_MAYOR + CA_GOVERNOR + RING + row + "\n"
    run = _run("import_targets", _csv(tmp_path, text))
    assert run.error is not None
    assert f"Line 5: {reason}" in run.err
    assert "Nothing imported" in str(run.error)
    assert Target.objects.count() == 0


def test_every_reason_of_a_bad_row_is_listed(tmp_path) -> None:
    row = "A,Mayor,local,XX,,,not-an-email,ftp://x.example\n"
    run = _run("import_targets", _csv(tmp_path, TARGETS_HEADER + row))
    line = next(line for line in run.err.splitlines() if line.startswith("Line 2:"))
    for reason in ("unknown country code", "needs a region", "needs a locality", "email", "URL"):
        assert reason in line


def test_targets_skip_bad_rows_imports_the_good_ones_and_lists_the_bad(tmp_path) -> None:
    text = (
        TARGETS_HEADER
        + OAKLAND_MAYOR
        + "A,Mayor,mayor,US,CA,Oakland,,\n"
        + CA_GOVERNOR
        + "A,Governor,state,US,,,,\n"
        + SENATE
    )
    run = _run("import_targets", _csv(tmp_path, text), "--skip-bad-rows")
    assert run.error is None
    assert "Line 3: unknown level 'mayor'" in run.err
    assert "Line 5: a state target needs a region" in run.err
    assert "Line 6 (warning): US Senate Judiciary Committee has no email" in run.err
    assert "Imported 3 targets" in run.out
    assert "2 bad rows were skipped (listed above)." in run.out
    assert set(Target.objects.values_list("level", flat=True)) == {"local", "state", "national"}


def test_targets_header_missing_a_column_is_refused_clearly(tmp_path) -> None:
    text = "name,title,level,country,region,locality,email\n" + "A,B,company,,,,,\n"
    run = _run("import_targets", _csv(tmp_path, text))
    assert run.error is not None
    assert "lacks the column(s) contact_url" in str(run.error)
    assert "name,title,level,country,region,locality,email,contact_url" in str(run.error)
    assert Target.objects.count() == 0


def test_a_row_matching_two_existing_targets_is_refused(tmp_path) -> None:
    for name in ("One", "Two"):
        Target.objects.create(
            name=name, title="Mayor of Oakland", level="local", country="US", region="CA",
            locality="Oakland",
        )  # fmt: skip
    run = _run("import_targets", _csv(tmp_path, TARGETS_HEADER + OAKLAND_MAYOR))
    assert run.error is not None
    assert "Line 2: matches 2 existing targets" in run.err


def test_a_failure_while_saving_leaves_nothing_half_imported(tmp_path) -> None:
    _run("import_targets", _csv(tmp_path, TARGETS_HEADER + CA_GOVERNOR))
    text = TARGETS_HEADER + OAKLAND_MAYOR + CA_GOVERNOR.replace("Gavin", "G.")
    with (
        mock.patch.object(models.Manager, "bulk_update", side_effect=RuntimeError("lost")),
        pytest.raises(RuntimeError),
    ):
        targets_import(data=text.encode())
    # The new mayor was created before the update failed, and rolled back with it.
    assert list(Target.objects.values_list("name", flat=True)) == ["Gavin Newsom"]


def test_importer_is_usable_without_the_command() -> None:
    data = (TARGETS_HEADER + OAKLAND_MAYOR + "A,Mayor,mayor,US,CA,Oakland,,\n").encode()
    result = targets_import(data=data)
    assert result.refused
    assert result.rows == 2
    assert [(problem.line, problem.reason[:13]) for problem in result.bad_rows] == [
        (3, "unknown level")
    ]
    assert Target.objects.count() == 0
    result = targets_import(data=data, skip_bad_rows=True)
    assert (result.created, result.imported, result.refused) == (1, 1, False)
