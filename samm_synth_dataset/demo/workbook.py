"""The demo corpus's annotation workbook in the SAMM-LV V1 layout, with deterministic bytes.

One sheet, ``FACS_Movement_Only``: a 9-row preamble, the header on Excel row :data:`HEADER_ROW` (10) and one row
per labelled event from the next row on, in the order of the scripts; Duration cells are Excel formulas
(``=SUM(F{r}-D{r})+1``) with their values cached, as in the real sheet.

Conventions
-----------
* Onset, Apex and Offset are SOURCE frame numbers (1-based, inclusive); a whole number is written as an integer.
* Quirks (``quirks=True``) change only what the sheet shows, never the true interval: ``fractional``,
  ``apex_missing`` (apex -1), ``onset_zero``, ``duplicate_filename`` and ``offset_past_end``; each row of
  :func:`_sheet_rows` (``ground_truth/intervals.csv``) records the true values, the values written and its quirk.
* The bytes depend only on the content: fixed document times (:data:`FIXED_TIME`) and every zip member dated
  1980-01-01 (:func:`fixed_zip_times`, also used for the CAS(ME)³-layout workbooks).
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

from samm_synth_dataset.demo.choreography import VideoScript
from samm_synth_dataset.sources.annotations import SAMM_HEADER, SAMM_SHEET

SHEET_COLUMNS: tuple[str, ...] = SAMM_HEADER
HEADER_ROW = 10  # 1-based Excel row of the header; data start on the next row
TYPE_MACRO = "Macro"
TYPE_MICRO = "Micro - 1/2"
FIXED_TIME = datetime(2020, 1, 1, 0, 0, 0)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _sheet_rows(scripts: list[VideoScript], quirks: bool) -> list[dict[str, object]]:
    """One row per labelled event: the true interval and the values the sheet shows (in sheet order)."""
    rows: list[dict[str, object]] = []
    excel_row = HEADER_ROW + 1
    for script in scripts:
        last = script.first_frame + script.n_frames - 1
        labelled = sorted((e for e in script.events if e.kind != "head"), key=lambda e: (e.onset, e.name))
        numbers: dict[str, int] = {}
        next_number = 1
        for ev in labelled:
            if quirks and ev.duplicate_of:
                numbers[ev.name] = numbers[ev.duplicate_of]
            else:
                numbers[ev.name] = next_number
                next_number += 1
        spans = {ev.name: (max(ev.onset, 1), min(ev.offset, script.n_frames)) for ev in labelled}
        for ev in labelled:
            inside = ev.kind == "ME" and any(
                other.kind == "MaE" and spans[other.name][0] <= spans[ev.name][0]
                and spans[ev.name][1] <= spans[other.name][1] for other in labelled)
            notes = "Micro inside of a macro" if inside else ""
            onset = max(script.first_frame + ev.onset - 1, script.first_frame)
            apex = script.first_frame + ev.apex - 1
            offset = min(script.first_frame + ev.offset - 1, last)
            sheet_onset: float = onset
            sheet_apex: float = apex
            sheet_offset: float = offset
            applied: list[str] = []
            if quirks:
                for quirk in ev.sheet_quirks:
                    if quirk == "fractional":  # as V1's 566.4 / 647.6: rounding half up restores the truth
                        sheet_onset, sheet_apex = onset + 0.4, apex - 0.4
                    elif quirk == "apex_missing":
                        sheet_apex = -1
                    elif quirk == "onset_zero":  # in progress at the first frame; the sheet writes 0
                        sheet_onset = 0
                    elif quirk == "offset_past_end":  # the profile's own end, past the last frame
                        sheet_offset = script.first_frame + ev.offset - 1
                    elif quirk != "duplicate_filename":
                        raise AssertionError(quirk)
                    applied.append(quirk)
            rows.append({
                "event": f"{script.video}_{ev.name}", "video": script.video, "subject": script.subject,
                "source_id": f"{script.video}_{numbers[ev.name]}", "sheet_row": excel_row,
                "onset": onset, "apex": apex, "offset": offset, "kind": ev.kind,
                "action_units": ev.action_units,
                "region": "mouth" if ev.action_units == "12" else "brows",
                "amplitude": ev.amplitude, "notes": notes, "quirk": ";".join(applied),
                "sheet_onset": sheet_onset, "sheet_apex": sheet_apex, "sheet_offset": sheet_offset,
                "sheet_type": TYPE_MACRO if ev.kind == "MaE" else TYPE_MICRO,
            })
            excel_row += 1
    return rows


def _write_workbook(path: Path, rows: list[dict[str, object]]) -> None:
    """The annotation workbook in the SAMM-LV V1 layout (9-row preamble, header row 10, Duration formulas)."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook()
    ws = wb.active
    ws.title = SAMM_SHEET
    ws["A1"] = "SAMM Long Videos Dataset - FACS Codes"
    ws["A3"] = "Symbol Key"
    ws["A4"] = '"/" = or'
    ws["A5"] = '"L2 or R2" = unilateral AU (left or right)'
    ws["A6"] = '"A2" = asymmetric AU'
    ws["F7"] = "NOTE: Subjects with Apex Frame not annotated were labelled as -1."
    ws["A8"] = "Synthetic demo sheet generated by samm_synth_dataset.demo.corpus (not SAMM data)."
    for col, name in enumerate(SHEET_COLUMNS, start=1):
        ws.cell(row=HEADER_ROW, column=col, value=name)
    for row in rows:
        r = int(row["sheet_row"])
        values = [row["subject"], row["source_id"], int(str(row["video"]).split("_")[1]),
                  _excel_number(row["sheet_onset"]), _excel_number(row["sheet_apex"]),
                  _excel_number(row["sheet_offset"]), f"=SUM(F{r}-D{r})+1", row["sheet_type"],
                  row["action_units"], row["notes"] or None]
        for col, value in enumerate(values, start=1):
            ws.cell(row=r, column=col, value=value)
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.creator = "samm_synth_dataset"
    # ExcelWriter directly: openpyxl's save() would stamp the current time as "modified"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    durations = {int(row["sheet_row"]): _excel_number(float(row["sheet_offset"]) - float(row["sheet_onset"]) + 1)
                 for row in rows}
    path.write_bytes(fixed_zip_times(buffer.getvalue(), durations))


def _cache_durations(sheet_xml: bytes, durations: dict[int, int | float]) -> bytes:
    """Store each Duration formula's value as Excel does (``<f>…</f><v>value</v>``): openpyxl writes formulas
    with an empty cached value, and readers of the real sheet (pandas, openpyxl ``data_only``) see the values."""
    text = sheet_xml.decode("utf-8")
    for r, value in durations.items():
        formula = f'<c r="G{r}"><f>SUM(F{r}-D{r})+1</f><v /></c>'
        if formula not in text:
            raise RuntimeError(f"demo workbook: Duration formula of row {r} not found in the sheet XML")
        text = text.replace(formula, f'<c r="G{r}"><f>SUM(F{r}-D{r})+1</f><v>{value}</v></c>')
    return text.encode("utf-8")


def _excel_number(value: object) -> int | float:
    number = float(value)  # type: ignore[arg-type]
    return int(number) if number.is_integer() else number


def fixed_zip_times(data: bytes, durations: dict[int, int | float]) -> bytes:
    """Re-pack a zip (an .xlsx) with every member dated 1980-01-01 so the bytes depend only on the content,
    the Duration formulas' cached values filled in."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            member = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                member = _cache_durations(member, durations)
            dst.writestr(fixed, member)
    return out.getvalue()
