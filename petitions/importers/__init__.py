"""Loading targets and postal areas from CSV files (the import_targets and import_postal_codes
commands), one module each; the engine they share is mechanisms.csv_import.

The names below are re-exported so that `from petitions.importers import targets_import` and
the like keep working."""

from __future__ import annotations

from mechanisms.csv_import import FileRefused, ImporterRequired, ImportResult, RowProblem
from petitions.importers.postal_codes import postal_areas_import
from petitions.importers.targets import TargetsImportResult, targets_import

__all__ = [
    "FileRefused",
    "ImportResult",
    "ImporterRequired",
    "RowProblem",
    "TargetsImportResult",
    "postal_areas_import",
    "targets_import",
]
