"""The CSV import engine (mechanisms.csv_import) without an app's rows: reading files as people
save them, refusing those it cannot read, and importing all or nothing. The import_targets and
import_postal_codes commands built on it are tested in tests/petitions/test_importers.py."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from mechanisms.csv_import import (
    Checked,
    CsvRow,
    CsvTable,
    FileRefused,
    ImporterRequired,
    ImportResult,
    RowProblem,
    csv_import,
    csv_read,
    csv_rows_check,
)

COLUMNS = ("country", "postal_code", "region", "locality")


def _refusal(data: bytes) -> str:
    with pytest.raises(FileRefused) as error:
        csv_read(data, columns=COLUMNS)
    return str(error.value)


def test_semicolon_separated_file_is_explained() -> None:
    assert "must be comma-separated" in _refusal(b"country;postal_code;region;locality\n")


@pytest.mark.parametrize("data", [b"", b"\n\n"])
def test_empty_file_is_refused(data: bytes) -> None:
    message = _refusal(data)
    assert "The file is empty" in message
    assert "country,postal_code,region,locality" in message


def test_file_that_is_not_utf8_is_refused_with_its_line() -> None:
    data = "country,postal_code,region,locality\nDE,80331,BY,München\n".encode("latin-1")
    assert "not UTF-8 text (line 2)" in _refusal(data)


def test_header_naming_a_column_twice_is_refused() -> None:
    message = _refusal(b"country,postal_code,region,locality,Region\n")
    assert "names a column more than once: region" in message


def test_header_missing_a_column_is_refused() -> None:
    message = _refusal(b"country,postal_code,locality\n")
    assert "The header (line 1) lacks the column(s) region." in message
    assert "The first row must name the columns country,postal_code,region,locality." in message


def test_excel_byte_order_mark_and_extra_columns_are_fine() -> None:
    text = "Country,Postal_Code,Region,Locality,Notes\r\nDE,10115,BE, Berlin ,checked\r\n"
    table = csv_read(text.encode("utf-8-sig"), columns=COLUMNS)
    assert table.rows == [
        CsvRow(2, {"country": "DE", "postal_code": "10115", "region": "BE", "locality": "Berlin"})
    ]
    assert (table.header_line, table.ignored_columns) == (1, ["notes"])


def test_line_numbers_count_lines_of_the_file_not_records() -> None:
    text = (
        "\ncountry,postal_code,region,locality\n"
        + 'DE,10115,BE,"Ber\nlin"\n'
        + ",,,\n"
        + "DE,10115,BE\n"
        + "IT,00184,RM,Roma\n"
    )
    table = csv_read(text.encode(), columns=COLUMNS)
    assert table.header_line == 2
    assert table.problems == [
        RowProblem(3, "locality: contains a line break, tab or other control character"),
        RowProblem(6, "has 3 cells where the header has 4"),
    ]
    assert [row.line for row in table.rows] == [7]
    assert table.row_count == 3


def _table(*lines: str) -> CsvTable:
    return csv_read(
        "\n".join(["country,postal_code,region,locality", *lines]).encode(), columns=COLUMNS
    )


def _locality_required(row: CsvRow, reasons: list[str]) -> str:
    if not row.cells["locality"]:
        reasons.append("locality is empty")
    return row.cells["locality"]


def test_bad_rows_are_listed_by_line_with_the_unreadable_ones() -> None:
    table = _table("DE,1,BE,", "DE,1,BE", "DE,1,BE,Berlin")
    checked = csv_rows_check(table, row_check=_locality_required)
    assert checked.good == ["Berlin"]
    assert checked.bad == [
        RowProblem(2, "locality is empty"),
        RowProblem(3, "has 3 cells where the header has 4"),
    ]


def _import(data: bytes, *, skip_bad_rows: bool, saved: list[list[str]]) -> ImportResult:
    def rows_save(rows: list[str], result: ImportResult) -> None:
        saved.append(rows)
        result.created = len(rows)

    return csv_import(
        data=data,
        columns=COLUMNS,
        rows_check=lambda table: csv_rows_check(table, row_check=_locality_required),
        rows_save=rows_save,
        result_type=ImportResult,
        skip_bad_rows=skip_bad_rows,
    )


@pytest.mark.django_db
def test_a_bad_row_stops_the_import_unless_bad_rows_are_skipped() -> None:
    data = b"country,postal_code,region,locality,notes\nDE,1,BE,,x\nDE,2,BE,Berlin,x\n"
    saved: list[list[str]] = []
    result = _import(data, skip_bad_rows=False, saved=saved)
    assert (result.refused, result.rows, result.imported, saved) == (True, 2, 0, [])
    assert result.bad_rows == [RowProblem(2, "locality is empty")]
    assert result.warnings == [RowProblem(1, "column 'notes' is not used and was ignored")]
    result = _import(data, skip_bad_rows=True, saved=saved)
    assert (result.refused, result.rows, result.imported, saved) == (False, 2, 1, [["Berlin"]])
    assert result.bad_rows == [RowProblem(2, "locality is empty")]


@pytest.mark.django_db
def test_a_refusal_while_saving_leaves_nothing_half_imported() -> None:
    def rows_save(rows: list[str], result: ImportResult) -> None:
        Group.objects.bulk_create([Group(name=f"imported {row}") for row in rows])
        raise ImporterRequired("name who imports it")

    with pytest.raises(ImporterRequired):
        csv_import(
            data=b"country,postal_code,region,locality\nDE,1,BE,Berlin\n",
            columns=COLUMNS,
            rows_check=lambda table: Checked(good=[row.cells["locality"] for row in table.rows]),
            rows_save=rows_save,
            result_type=ImportResult,
        )
    assert not Group.objects.filter(name__startswith="imported ").exists()
