"""The one way MedVenue writes CSV and spreadsheet cells (issue 12).

Every export (the learner's transcript, the PARS learner file, every file of the audit pack,
...) goes through `csv_text`, so text a person typed (a name, an evaluation answer, a session
title) can never run as a formula when an organizer opens the file in a spreadsheet: a cell
that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, unless it is
a plain number ("-0.50" stays a number). Excel workbooks store such text as text cells
(`append_text_row`), so they keep their exact value.
"""

import csv
import io
import re
from collections.abc import Iterable

from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def safe_cell(value: object) -> str:
    """`value` as CSV text that no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def csv_text(header: Iterable[object], rows: Iterable[Iterable[object]]) -> str:
    """The CSV text of `header` and `rows`, every cell guarded by `safe_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(value) for value in header])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def append_text_row(sheet: Worksheet, values: Iterable[object]) -> None:
    """Append `values` to an openpyxl worksheet as text cells (a leading `=` stays text)."""
    sheet.append(["" if value is None else str(value) for value in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
