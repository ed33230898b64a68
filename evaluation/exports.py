"""Ranked tables and the annual assessment as XLSX and CSV files, each export logged.

A file states what it is: the title, the period, the filters and when it was made, then
the table with Chinese headers. Exports are built from the same ``Table`` the page shows
(so the same scoping applies), and tables never carry residents' personal data.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from alleys.people import Member
from core.text import spreadsheet_text

from .choices import ExportFormat
from .models import ExportLog
from .tables import Table, fmt

CONTENT_TYPES = {
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.CSV: "text/csv; charset=utf-8",
}
FIGURES = ("pct", "hours", "score", "int")
NUMBER_FORMATS = {"pct": "0.0%", "hours": "0.0", "score": "0.0", "int": "0", "datetime": "yyyy-mm-dd hh:mm"}


def _preamble(table: Table, now: dt.datetime) -> list[tuple[str, str]]:
    lines = [(_("统计期间"), table.period)] if table.period else []
    lines += [(str(k), str(v)) for k, v in table.filters.items()]
    lines.append((_("导出时间"), f"{timezone.localtime(now):%Y-%m-%d %H:%M}"))
    lines.append((_("行数"), str(len(table.rows))))
    return lines


def _text(value: Any) -> str:
    """Every text cell through the boundary rule: never a formula, no control characters."""
    return spreadsheet_text(str(value))


def write_csv(table: Table, *, now: dt.datetime) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_text(table.title)])
    for key, value in _preamble(table, now):
        writer.writerow([_text(key), _text(value)])
    writer.writerow([])
    writer.writerow([_text(c.label) for c in table.export_columns()])
    for row in table.rows:
        # Figures are ours (a negative change is a number, not a formula); texts are anyone's.
        writer.writerow(
            [
                "" if v is None else fmt(v, c.kind) if c.kind in FIGURES else _text(fmt(v, c.kind))
                for c, v in table.export_cells(row)
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _cell_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        return timezone.localtime(value).replace(tzinfo=None)
    if kind in FIGURES:
        return value
    return _text(value)


def write_xlsx(table: Table, *, now: dt.datetime) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = re.sub(r"[\[\]:*?/\\']", "", _text(table.title))[:31] or "Sheet1"
    ws.append([_text(table.title)])
    ws["A1"].font = Font(bold=True, size=14)
    for key, value in _preamble(table, now):
        ws.append([_text(key), _text(value)])
    ws.append([])
    header_row = ws.max_row + 1
    columns = table.export_columns()
    ws.append([_text(c.label) for c in columns])
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEF1F4")
    for row in table.rows:
        ws.append([_cell_value(v, c.kind) for c, v in table.export_cells(row)])
    for index, column in enumerate(columns, start=1):
        number_format = NUMBER_FORMATS.get(column.kind)
        if number_format:
            for (cell,) in ws.iter_rows(min_row=header_row + 1, min_col=index, max_col=index):
                cell.number_format = number_format
        ws.column_dimensions[get_column_letter(index)].width = max(
            10, min(40, 2 * len(str(column.label)) + 2)
        )
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export_response(
    *, user: Member, table: Table, what: str, fmt_name: str, filters: dict[str, Any], file_stem: str
) -> HttpResponse:
    """The file as a download, after logging who exported what."""
    now = timezone.now()
    kind = ExportFormat.CSV if fmt_name == ExportFormat.CSV else ExportFormat.XLSX
    body = write_csv(table, now=now) if kind == ExportFormat.CSV else write_xlsx(table, now=now)
    ExportLog.objects.create(
        user=user,
        what=what,
        title=str(table.title)[:200],
        fmt=kind,
        filters={k: str(v) for k, v in filters.items() if v not in (None, "")},
        rows=len(table.rows),
        at=now,
    )
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", file_stem)
    response = HttpResponse(body, content_type=CONTENT_TYPES[kind])
    response["Content-Disposition"] = (
        f'attachment; filename="{stem}-{timezone.localtime(now):%Y%m%d%H%M}.{kind}"'
    )
    response["Cache-Control"] = "no-store"
    return response
