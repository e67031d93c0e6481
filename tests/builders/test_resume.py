"""Resume checks on the output folder: what is compared, and the one-line refusals."""

import json
import logging
from pathlib import Path

import pytest

from samm_synth_dataset.builders import manifest as mf
from samm_synth_dataset.builders.resume import check_output_folder
from samm_synth_dataset.builders.writer import BUILD_DIR

PLAN = {"inputs": {"annotations": "a" * 64}, "config": {"seed": 0, "max_part_frames": 60},
        "units": [{"video": "006_1-ref01"}], "versions": {"pyarrow": "1"}}


def _with_plan(tmp_path: Path, **changes) -> Path:
    out = tmp_path / "release"
    (out / BUILD_DIR).mkdir(parents=True)
    (out / mf.PLAN).write_text(json.dumps({**PLAN, **changes}))
    return out


def test_absent_or_empty_folder_passes(tmp_path: Path) -> None:
    check_output_folder(tmp_path / "absent", False, PLAN)
    check_output_folder(tmp_path, False, PLAN)


def test_non_empty_folder_needs_resume(tmp_path: Path) -> None:
    out = _with_plan(tmp_path)
    with pytest.raises(ValueError, match="is not empty: pass --resume"):
        check_output_folder(out, False, PLAN)
    check_output_folder(out, True, PLAN)  # same plan: resumed


def test_folder_without_plan_is_refused_unless_only_an_empty_build_dir(tmp_path: Path) -> None:
    out = tmp_path / "release"
    (out / BUILD_DIR).mkdir(parents=True)
    check_output_folder(out, True, PLAN)  # killed before the plan was written: starts afresh
    (out / "stray.txt").write_text("x")
    with pytest.raises(ValueError, match="there is no .build/plan.json"):
        check_output_folder(out, True, PLAN)


def test_changed_inputs_config_or_units_are_refused(tmp_path: Path) -> None:
    out = _with_plan(tmp_path, inputs={"annotations": "b" * 64, "boxes": "c" * 64})
    with pytest.raises(ValueError, match=r"input files changed .*\['annotations', 'boxes'\]"):
        check_output_folder(out, True, PLAN)
    out = _with_plan(tmp_path / "2", config={"seed": 0, "max_part_frames": 70})
    with pytest.raises(ValueError, match=r"config differs in \['max_part_frames'\]"):
        check_output_folder(out, True, PLAN)
    out = _with_plan(tmp_path / "3", units=[])
    with pytest.raises(ValueError, match="config differs in its list of units"):
        check_output_folder(out, True, PLAN)


def test_other_library_versions_only_warn(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = _with_plan(tmp_path, versions={"pyarrow": "2"})
    with caplog.at_level(logging.WARNING):
        check_output_folder(out, True, PLAN)
    assert "library versions differ" in caplog.text
