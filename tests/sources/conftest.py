"""Writers of annotation files in the exact real layouts (specs/source_datasets.md §1.3, §2.3), with their quirks.

Nothing here is real SAMM-LV or CAS(ME)² data: the rows are made up, the layouts are the real ones.
"""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Sequence

import cv2
import numpy as np
import pytest
from openpyxl import Workbook

SAMM_HEADER = ["Subject", "Filename", "Inducement Code", "Onset", "Apex", "Offset", "Duration", "Type",
               "Action Units", "Notes"]

# (Subject, Filename, Inducement Code, Onset, Apex, Offset, Type, AUs, Notes) in the V1 style: Subject as text
SAMM_V1_ROWS: list[tuple[Any, ...]] = [
    ("006", "006_1_1", 1, 566.4, 647.6, 743, "Macro", "R12", None),           # fractional (V1)
    ("006", "006_1_2", 1, 3562, 3600, 3640, "Micro - 1/2", "4", "Eye movement"),
    ("010", "010_1_3", 1, 1200, -1, 1420, "Macro", "L2", "Glasses"),           # apex -1
    ("011", "011_6_8", 6, 0, 50, 300, "Macro", "12", None),                    # onset 0
    ("037", "037_4_1", 4, 1488, 1529, 1577, "Micro - 1/2", "1+2", None),      # duplicate Filename
    ("037", "037_4_1", 4, 1487, 1542, 1605, "Macro", "1+2", None),
    ("020", "020_6_5", 6, 4900, 4950, 5476, "Macro", "12", None),              # offset past the end (5001)
    ("011", "011_3_6", 3, 100.5, 150, 200.5, "Micro - 1/2", "6+12", "Blinks"),  # .5 rounds up
]


def write_samm_xlsx(path: Path, rows: Sequence[tuple[Any, ...]] = SAMM_V1_ROWS, header_row: int = 10,
                    subject_as_int: bool = False, preamble: bool = True, sheet: str = "FACS_Movement_Only",
                    duration_formula: bool = True) -> Path:
    """A SAMM-LV workbook: preamble, header at ``header_row`` (1-based), Duration as a V1 formula."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    if preamble:
        ws["A1"] = "SAMM Long Videos Dataset - FACS Codes"
        ws["A3"] = "Symbol Key"
        ws["A4"] = '"/" = or'
        ws["A5"] = '"L2 or R2" = unilateral AU'
        ws["F7"] = "NOTE: Subjects with Apex Frame not annotated were labelled as -1."
    for col, name in enumerate(SAMM_HEADER, start=1):
        ws.cell(row=header_row, column=col, value=name)
    for i, (subject, filename, code, onset, apex, offset, kind, aus, notes) in enumerate(rows):
        r = header_row + 1 + i
        duration: Any = f"=SUM(F{r}-D{r})+1" if duration_formula else round(offset) - round(onset) + 7
        values = [int(subject) if subject_as_int and str(subject).isdigit() else subject, filename, code, onset,
                  apex, offset, duration, kind, aus, notes]
        for col, value in enumerate(values, start=1):
            ws.cell(row=r, column=col, value=value)
    wb.save(path)
    return path


def write_samm_csv(path: Path, rows: Sequence[tuple[Any, ...]] = SAMM_V1_ROWS) -> Path:
    """The V2 CSV export: 9 preamble lines, header on line 10, integer subjects, rounded frames."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["SAMM Long Videos Dataset - FACS Codes"] + [""] * 9)
        for _ in range(8):
            w.writerow([""] * 10)
        w.writerow(SAMM_HEADER)
        for subject, filename, code, onset, apex, offset, kind, aus, notes in rows:
            w.writerow([int(subject), filename, code, onset, apex, offset, "", kind, aus, notes or ""])
    return path


# CAS(ME)² data rows: (subject index, expression name, onset, apex, offset, AUs, emotion, type, self-report)
CASME_ROWS: list[tuple[Any, ...]] = [
    (1, "disgust1_1", 557, 572, 608, "4+7", "negative", "macro-expression", "disgust"),
    (1, "disgust1_2", 1200, 1206, 1214, "4", "negative", "micro-expression", "disgust"),
    (1, "happy1_1", 300, 320, 0, "12", "positive", "macro-expression", "happiness"),   # offset 0
    (17, "anger1_1", 1763, 0, 1787, "NULL", "negative", "macro-expression", "anger"),   # apex 0
    (9, "disgust1_5", 1221, 1230, 1224, 4, "negative", "macro-expression", "disgust"),  # offset < apex
    (1, "happy2_1", 40, 60, 70, "null", "Others", "micro-expression", "happyiness"),  # capital O
]
# naming rule1: (folder number, folder name, subject index), one per data row
CASME_SUBJECTS = {1: (15, "s15"), 9: (25, "s25"), 17: (34, "s34")}
CASME_CODES = [("0101", "disgust1"), ("0102", "disgust2"), ("0401", "anger1"), ("0402", "anger2"),
               ("0502", "happy1"), ("0503", "happy2"), ("0505", "happy3"), ("0507", "happy4"), ("0508", "happy5")]


def write_casme_xlsx(path: Path, rows: Sequence[tuple[Any, ...]] = CASME_ROWS,
                     codes: Sequence[tuple[Any, str]] = CASME_CODES, data_sheet: str = "CASFEcode_final") -> Path:
    """CAS(ME)²'s ``CAS(ME)^2code_final.xlsx``: data (no header), ``naming rule1``, ``naming rule2``."""
    wb = Workbook()
    ws = wb.active
    ws.title = data_sheet
    for row in rows:
        ws.append(list(row))
    r1 = wb.create_sheet("naming rule1")
    for row in rows:
        if row[0] in CASME_SUBJECTS:  # unknown indices are left out (error-path tests)
            number, folder = CASME_SUBJECTS[row[0]]
            r1.append([number, folder, row[0]])
    r2 = wb.create_sheet("naming rule2")
    for code, name in codes:
        r2.append([code, name])
        if isinstance(code, str):
            r2.cell(row=r2.max_row, column=1).number_format = "@"  # stored as text, as in the real file
    wb.save(path)
    return path


def write_jpeg(path: Path, image: np.ndarray, quality: int = 90) -> Path:
    """Encode an RGB or greyscale uint8 image as JPEG."""
    bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.tobytes())
    return path


def grey_frame(value: int = 100, width: int = 40, height: int = 30) -> np.ndarray:
    img = np.full((height, width), value, np.uint8)
    img[5:10, 5:20] = 200
    return img


@pytest.fixture
def samm_xlsx(tmp_path: Path) -> Callable[..., Path]:
    return lambda name="SAMM_LongVideos_V1_Release.xlsx", **kw: write_samm_xlsx(tmp_path / name, **kw)


@pytest.fixture
def casme_xlsx(tmp_path: Path) -> Callable[..., Path]:
    return lambda name="CAS(ME)^2code_final.xlsx", **kw: write_casme_xlsx(tmp_path / name, **kw)


@pytest.fixture
def helpers() -> SimpleNamespace:
    """The writers and row tables of this module (test modules cannot import a conftest under importlib mode)."""
    return SimpleNamespace(write_samm_xlsx=write_samm_xlsx, write_samm_csv=write_samm_csv,
                           write_casme_xlsx=write_casme_xlsx, write_jpeg=write_jpeg, grey_frame=grey_frame,
                           SAMM_V1_ROWS=SAMM_V1_ROWS, CASME_ROWS=CASME_ROWS, CASME_CODES=CASME_CODES)
