"""Sheet cells: exact frame numbers rounded half-up (flagged), expression wording, header keys, row context."""

from __future__ import annotations

from pathlib import Path

import pytest

from samm_synth_dataset.sources.sheets import (AnnotationError, Where, cell_text, expression_kind, frame_number,
                                               header_key, is_blank)

WHERE = Where(Path("sheet.xlsx"), "AU+Emotion")


@pytest.mark.parametrize("value, expected, rounded", [
    (566.4, 566, True), (647.6, 648, True), (100.5, 101, True), ("12", 12, False), (7.0, 7, False), (-1, -1, False),
])
def test_frame_numbers_round_half_up_and_flag_it(value, expected, rounded) -> None:
    flags: list[str] = []
    assert frame_number(value, "Onset", WHERE, 3, flags) == expected
    assert flags == (["rounded"] if rounded else [])


@pytest.mark.parametrize("value, match", [(None, "Onset is empty"), ("abc", "not a frame number"),
                                          (float("inf"), "not a frame number"), (True, "not a frame number"),
                                          (-2.5, "negative and fractional")])
def test_bad_frame_cells_name_file_sheet_and_row(value, match) -> None:
    with pytest.raises(AnnotationError, match=rf"^sheet\.xlsx, sheet 'AU\+Emotion', row 7: .*{match}"):
        frame_number(value, "Onset", WHERE, 7, [])


def test_expression_wording_and_cells() -> None:
    assert [expression_kind(v, WHERE, 1) for v in ("Micro - 1/2", "micro-expression", "ME", "Macro", "mae")] == [
        "ME", "ME", "ME", "MaE", "MaE"]
    with pytest.raises(AnnotationError, match="unknown expression type 'blink'"):
        expression_kind("blink", WHERE, 4)
    assert (cell_text(12.0), cell_text("  a "), cell_text(float("nan"))) == ("12", "a", "")
    assert is_blank("  ") and not is_blank(0)
    assert header_key("Expression type") == header_key("expression_TYPE") == "expressiontype"
