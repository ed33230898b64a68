"""evaluation/exports: a spreadsheet opens whatever the rows hold, and no cell is a formula (issue 14)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from openpyxl import load_workbook

from evaluation.exports import write_csv, write_xlsx
from evaluation.tables import Column, Table

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
HOSTILE = [
    '=HYPERLINK("http://evil.example","点我")',
    "+86 138",
    "-1+1",
    "@SUM(A1)",
    "路灯\x0b不亮\x00\x1f\ufffe",
]


def table() -> Table:
    return Table(
        title="=街道排名\x0b",
        columns=[Column("name", "名称"), Column("score", "得分", "score")],
        rows=[{"name": text, "score": -1.5} for text in HOSTILE],
        period="2026年3月",
        filters={"区域": "-鲤城区\x01"},
    )


def test_xlsx_opens_and_no_cell_is_a_formula() -> None:
    sheet = load_workbook(io.BytesIO(write_xlsx(table(), now=NOW))).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert all(cell.data_type != "f" for cell in cells)
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert '\'=HYPERLINK("http://evil.example","点我")' in texts
    assert {"'+86 138", "'-1+1", "'@SUM(A1)", "路灯不亮", "'=街道排名", "'-鲤城区"} <= set(texts)
    assert -1.5 in [cell.value for cell in cells], "figures stay numbers"


def test_csv_cells_are_never_formulas_and_carry_no_control_characters() -> None:
    body = write_csv(table(), now=NOW).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    texts = [value for row in rows for value in row]
    assert not any(value.startswith(("=", "+", "-", "@")) and value != "-1.5" for value in texts)
    assert "路灯不亮" in texts and "-1.5" in texts
    assert not any(ch in body for ch in "\x00\x0b\x1f\ufffe")
