"""Cells and rows of annotation sheets: the primitives every sheet reader shares.

Frame-number cells are read exactly (``Decimal``) and rounded half-up (``floor(x + 0.5)``); a fractional one
adds the ``rounded`` flag. Rows are numbered 1-based, as a spreadsheet shows them, in every error message.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Sequence


class AnnotationError(ValueError):
    """An annotation row or file that cannot be read; the message names file, sheet and 1-based row."""


@dataclass
class Row:
    """One parsed sheet row before interval ids are made unique (frames as in the sheet, ends inclusive)."""

    source_id: str
    subject: str
    video: str
    onset: int
    apex: int | None
    offset: int
    kind: str
    action_units: str = ""
    notes: str = ""
    flags: list[str] = field(default_factory=list)
    emotion: str | None = None
    emotion_megc: str | None = None
    objective_class: str | None = None


class Where:
    """File/sheet/row context for error messages."""

    def __init__(self, path: Path, sheet: str | None) -> None:
        self.path = path
        self.sheet = sheet

    def at(self, row: int | None = None) -> str:
        where = f"{self.path}"
        if self.sheet is not None:
            where += f", sheet {self.sheet!r}"
        if row is not None:
            where += f", row {row}"
        return where

    def error(self, row: int | None, message: str) -> AnnotationError:
        return AnnotationError(f"{self.at(row)}: {message}")


def csv_rows(path: Path) -> list[tuple[Any, ...]]:
    """Every row of a CSV file (UTF-8, a byte-order mark allowed) as a tuple of strings."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        return [tuple(r) for r in csv.reader(f)]


def is_blank(value: Any) -> bool:
    """None, NaN or whitespace-only text."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def cell_text(value: Any) -> str:
    """A cell as text: '' for blank, integral floats without '.0', strings stripped."""
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def emotion_word(value: Any, flags: list[str]) -> str | None:
    """An emotion cell as a lower-case word (None when blank); a word written with capitals (``Others``) adds the
    flag ``emotion_case_normalised`` to ``flags``."""
    text = cell_text(value)
    if not text:
        return None
    if text != text.lower() and "emotion_case_normalised" not in flags:
        flags.append("emotion_case_normalised")
    return text.lower()


def header_key(value: Any) -> str:
    """A header cell compared by its letters only, lower case (``"Expression type"`` → ``expressiontype``)."""
    return re.sub(r"[^a-z]", "", cell_text(value).lower())


def _number(value: Any, what: str, where: Where, row: int) -> Decimal:
    """A frame-number cell as an exact Decimal (numbers and numeric text accepted)."""
    if is_blank(value):
        raise where.error(row, f"{what} is empty; fill it in or remove the row")
    if isinstance(value, bool):
        raise where.error(row, f"{what} is {value!r}, not a frame number")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, float) else Decimal(repr(value))
    except InvalidOperation:
        raise where.error(row, f"{what} {value!r} is not a frame number") from None
    if not number.is_finite():
        raise where.error(row, f"{what} {value!r} is not a frame number")
    return number


def frame_number(value: Any, what: str, where: Where, row: int, flags: list[str]) -> int:
    """A frame number rounded half-up (``floor(x + 0.5)``); adds ``rounded`` to ``flags`` if it was fractional."""
    number = _number(value, what, where, row)
    rounded = int(number.to_integral_value(rounding=ROUND_HALF_UP)) if number >= 0 else int(number)
    if number != number.to_integral_value():
        if number < 0:
            raise where.error(row, f"{what} {value!r} is negative and fractional")
        if "rounded" not in flags:
            flags.append("rounded")
    return rounded


def expression_kind(value: Any, where: Where, row: int) -> str:
    """``ME`` for micro wording (``Micro - 1/2``, ``micro-expression``, ``me``), ``MaE`` for macro wording."""
    text = re.sub(r"[\s_]+", "", cell_text(value)).lower()
    if text.startswith("micro") or text == "me":
        return "ME"
    if text.startswith("macro") or text == "mae":
        return "MaE"
    raise where.error(row, f"unknown expression type {cell_text(value)!r}; expected a micro wording "
                           "('Micro - 1/2', 'micro-expression', 'ME') or a macro one ('Macro', "
                           "'macro-expression', 'MaE')")


def drop_duplicate_rows(rows: list[Row], bases: list[str], keep: bool) -> tuple[list[Row], list[str]]:
    """Rows equal in every field the sheet gives (source id, subject, video, onset, apex, offset, kind, AUs,
    notes): the first is kept with the flag ``duplicate_row``, the others dropped (kept too, each flagged, with
    ``keep``). A repeated Filename with other content (SAMM-LV's ``037_4_1``: one ME, one MaE) is not a
    duplicate."""
    first: dict[tuple[Any, ...], Row] = {}
    out_rows: list[Row] = []
    out_bases: list[str] = []
    for row, base in zip(rows, bases):
        key = (row.source_id, row.subject, row.video, row.onset, row.apex, row.offset, row.kind, row.action_units,
               row.notes)
        seen = first.setdefault(key, row)
        if seen is not row:
            if "duplicate_row" not in seen.flags:
                seen.flags.append("duplicate_row")
            if not keep:
                continue
            row.flags.append("duplicate_row")
        out_rows.append(row)
        out_bases.append(base)
    return out_rows, out_bases


def unique_ids(bases: Sequence[str]) -> list[str]:
    """Release-safe unique ids: the first occurrence keeps its base, the k-th duplicate gets ``-k``."""
    taken = set(bases)
    seen: Counter[str] = Counter()
    out: list[str] = []
    for base in bases:
        seen[base] += 1
        if seen[base] == 1:
            out.append(base)
            continue
        k = seen[base]
        candidate = f"{base}-{k}"
        while candidate in taken:
            k += 1
            candidate = f"{base}-{k}"
        taken.add(candidate)
        out.append(candidate)
    return out
