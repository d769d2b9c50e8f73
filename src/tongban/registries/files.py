"""Registry rows read from CSV and XLSX files, streamed with the row numbers a user sees.

The first row names the columns (the keyword arguments of the import services,
such as ``id_number`` or ``registered_region``); each later row becomes a dict.
Empty cells are left out, so that optional columns take their defaults.
Spreadsheet dates become dates and whole numbers become text (region codes,
ID numbers typed as numbers).
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from tongban.kernel.problems import InvalidInput

SUPPORTED_SUFFIXES = (".csv", ".xlsx")
# What reading a damaged or mislabelled file raises, at opening or while reading its rows.
READ_ERRORS = (OSError, UnicodeDecodeError, csv.Error, ValueError, KeyError, zipfile.BadZipFile)


def _nothing_to_close() -> None:
    return None


@dataclass
class RowFile:
    """A file of registry rows: its columns, how many data rows it has, and the rows themselves.

    ``close`` releases the file when the rows are not read to the end.
    """

    columns: list[str]
    total: int | None
    rows: Iterator[tuple[int, dict[str, Any]]]
    close: Callable[[], None] = _nothing_to_close


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    if isinstance(value, str):
        return value.strip()
    return value


def _row(columns: list[str], values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column, value in zip(columns, values, strict=False):
        cell = _cell(value)
        if column and cell not in (None, ""):
            row[column] = cell
    return row


def _columns(header: Any) -> list[str]:
    return [str(name or "").strip().lower() for name in header]


def _csv(path: Path) -> RowFile:
    # Counting decodes the whole file, so that a file that is not UTF-8 is refused before any row.
    with path.open(encoding="utf-8-sig", newline="") as counting:
        total = max(sum(1 for _line in counting) - 1, 0)
    with path.open(encoding="utf-8-sig", newline="") as header:
        columns = _columns(next(csv.reader(header), []))

    def rows() -> Generator[tuple[int, dict[str, Any]], None, None]:
        # The file is opened only when the rows are read, and closed with the generator.
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            for values in reader:
                if any(value.strip() for value in values):
                    yield reader.line_num, _row(columns, values)

    generator = rows()
    return RowFile(columns=columns, total=total, rows=generator, close=generator.close)


def _xlsx(path: Path) -> RowFile:
    from openpyxl import load_workbook

    # A workbook is a zip archive: a small upload may expand to gigabytes (a zip
    # bomb). Its members' declared sizes bound what reading them can produce
    # (zipfile stops at the declared size), so check their sum first.
    with zipfile.ZipFile(path) as archive:
        expanded = sum(member.file_size for member in archive.infolist())
    limit = settings.REGISTRY_IMPORT_MAX_EXPANDED_BYTES
    if expanded > limit:
        raise InvalidInput(_("The workbook expands to more than %(size)s: split it, or save it as CSV.")
                           % {"size": filesizeformat(limit)}, field="file")
    workbook = load_workbook(path, read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    columns = _columns(next(values, ()))
    total = max((sheet.max_row or 1) - 1, 0)

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for number, cells in enumerate(values, start=2):
                row = _row(columns, cells)
                if row:
                    yield number, row
        finally:
            workbook.close()

    return RowFile(columns=columns, total=total, rows=rows(), close=workbook.close)


def open_rows(path: str | Path) -> RowFile:
    """Open a CSV (UTF-8) or XLSX file of registry rows; raise InvalidInput for another kind of file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InvalidInput(_("Give a .csv or .xlsx file."), field="file")
    try:
        return _csv(path) if suffix == ".csv" else _xlsx(path)
    except UnicodeDecodeError:
        # Spreadsheets often save CSV in a legacy encoding (GBK): say what to do.
        raise InvalidInput(_("The CSV file is not UTF-8 text: save it as \"CSV UTF-8\" and try again."),
                           field="file") from None
    except READ_ERRORS as error:
        raise InvalidInput(_("The file cannot be read: %(error)s") % {"error": error}, field="file") from None

