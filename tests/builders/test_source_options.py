"""The source readers' options through the builder: CAS(ME)² ``offset_fill`` and ``allow_gaps`` (config, TOML,
CLI flags, effective config, and what a build with a frame gap records)."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from samm_synth_dataset import format as fmt
from samm_synth_dataset.builders import build, demo_config
from samm_synth_dataset.builders.commands import _config_from_args, add_commands
from samm_synth_dataset.builders.config import BuildConfig
from samm_synth_dataset.builders.plan import plan_units
from samm_synth_dataset.sources import OFFSET_FILL_RULES, AnnotationError, FrameGapError


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_source_options_defaults_validation_and_effective_config(tmp_path: Path) -> None:
    cfg = BuildConfig(source_root="s", references="r", out=tmp_path / "o")
    assert cfg.offset_fill == "apex" and cfg.allow_gaps is False
    eff = cfg.effective()
    assert eff["allow_gaps"] is False and "offset_fill" not in eff  # SAMM-LV: no offset is ever filled
    casme = BuildConfig(source_root="s", references="r", out="o", dataset="casme2", offset_fill="mirror",
                        allow_gaps=True).effective()
    assert casme["offset_fill"] == "mirror" and casme["allow_gaps"] is True
    with pytest.raises(ValueError, match=r"offset_fill must be one of \('apex', 'mirror', 'error'\).*'median'"):
        BuildConfig(source_root="s", references="r", out="o", offset_fill="median")
    with pytest.raises(ValueError, match="allow_gaps must be true or false"):
        BuildConfig(source_root="s", references="r", out="o", allow_gaps="yes")


def test_source_options_from_toml_and_flags(tmp_path: Path) -> None:
    toml = tmp_path / "build.toml"
    toml.write_text('[build]\nsource_root = "frames"\nreferences = "refs.csv"\nout = "rel"\ndataset = "casme2"\n'
                    'offset_fill = "mirror"\nallow_gaps = true\n')
    cfg = BuildConfig.from_toml(toml)
    assert (cfg.offset_fill, cfg.allow_gaps) == ("mirror", True)
    # flags override the file; absent flags keep it
    cfg = _config_from_args(_parse(["build", "--config", str(toml), "--offset-fill", "error"]))
    assert (cfg.offset_fill, cfg.allow_gaps) == ("error", True)
    cfg = _config_from_args(_parse(["build", "--source-root", "f", "--references", "r.csv", "--out", "o",
                                    "--dataset", "casme2", "--offset-fill", "mirror", "--allow-gaps"]))
    assert (cfg.offset_fill, cfg.allow_gaps) == ("mirror", True)
    cfg = _config_from_args(_parse(["build", "--source-root", "f", "--references", "r.csv", "--out", "o"]))
    assert (cfg.offset_fill, cfg.allow_gaps) == ("apex", False)
    with pytest.raises(SystemExit):
        _parse(["build", "--offset-fill", "median"])
    # the flag offers exactly the reader's rules
    for rule in OFFSET_FILL_RULES:
        assert _parse(["build", "--offset-fill", rule]).offset_fill == rule


def _casme2_corpus(root: Path) -> tuple[Path, Path, Path]:
    """A tiny CAS(ME)² layout: 20 frames of ``rawpic/s15/15_0502funnyerrors``, a three-sheet workbook whose
    second row has offset 0 (onset 5, apex 8), and a references CSV for subject s15."""
    folder = root / "rawpic" / "s15" / "15_0502funnyerrors"
    folder.mkdir(parents=True)
    for n in range(1, 21):
        ok, buf = cv2.imencode(".jpg", np.full((24, 32, 3), 8 * n, np.uint8))
        assert ok
        (folder / f"img{n:03d}.jpg").write_bytes(buf.tobytes())
    wb = Workbook()
    ws = wb.active
    ws.title = "CASFEcode_final"
    rows = [(1, "happy1_1", 2, 3, 4, "12", "positive", "micro-expression", "happiness"),
            (1, "happy1_2", 5, 8, 0, "12", "positive", "macro-expression", "happiness")]
    for row in rows:
        ws.append(list(row))
    r1 = wb.create_sheet("naming rule1")
    for _ in rows:
        r1.append([15, "s15", 1])
    r2 = wb.create_sheet("naming rule2")
    r2.append(["0502", "happy1"])
    r2.cell(row=1, column=1).number_format = "@"
    workbook = root / "CAS(ME)^2code_final.xlsx"
    wb.save(workbook)
    ok, buf = cv2.imencode(".png", np.full((16, 16, 3), 128, np.uint8))
    (root / "ref.png").write_bytes(buf.tobytes())
    refs = root / "references.csv"
    refs.write_text("subject,reference_path,domain,reference_id\ns15,ref.png,female,ref01\n")
    return root, workbook, refs


@pytest.mark.parametrize("rule, offset", [("apex", 8), ("mirror", 11)])
def test_plan_units_reads_casme2_with_the_offset_fill_rule(tmp_path: Path, rule: str, offset: int) -> None:
    root, workbook, refs = _casme2_corpus(tmp_path)
    cfg = BuildConfig(source_root=root, references=refs, out=tmp_path / "out", dataset="casme2",
                      annotations=workbook, offset_fill=rule)
    units, skipped, annotations = plan_units(cfg)
    assert [u.video for u in units] == ["15_0502-ref01"] and skipped == []
    filled = annotations[annotations["source_id"] == "happy1_2"].iloc[0]
    assert int(filled["offset"]) == offset and "offset_filled" in filled["flags"]


def test_plan_units_offset_fill_error_names_file_sheet_and_row(tmp_path: Path) -> None:
    root, workbook, refs = _casme2_corpus(tmp_path)
    cfg = BuildConfig(source_root=root, references=refs, out=tmp_path / "out", dataset="casme2",
                      annotations=workbook, offset_fill="error")
    with pytest.raises(AnnotationError, match=r"code_final\.xlsx.*CASFEcode_final.*row 2.*offset is 0"):
        plan_units(cfg)


def test_build_with_a_frame_gap_fails_by_default_and_records_it_with_allow_gaps(demo_corpus, tmp_path: Path
                                                                                ) -> None:
    """A source video lacking frames: the default build stops before any unit with the gap error; with
    allow_gaps the release simply lacks those frames and the summary, plan and manifest config say so."""
    video = "006_1"
    src = tmp_path / "SAMM_longvideos"
    shutil.copytree(demo_corpus.frames_root / video, src / video)
    paths = {int(p.stem.rsplit("_", 1)[1]): p for p in (src / video).glob("*.jpg")}
    numbers = sorted(paths)
    gone = [numbers[10], numbers[11], numbers[50]]
    for n in gone:
        paths[n].unlink()
    kept = [n for n in numbers if n not in gone]
    config = demo_config(demo_corpus, tmp_path / "release", source_root=tmp_path, videos=(video,),
                         refs_per_subject=1, formats=("parquet",), image_size=32, face_samples=3, progress=False)

    with pytest.raises(FrameGapError, match=rf"{video}: video {video} lacks frame numbers "
                                            rf"{gone[0]}, {gone[1]}, {gone[2]} .*allow_gaps") as err:
        build(config)
    assert list(err.value.missing) == gone
    assert not (tmp_path / "release").exists()  # nothing was started

    summary = build(config.replace(allow_gaps=True))
    assert summary.complete, summary.format()
    assert summary.missing_frames == {video: gone}
    assert f"gaps    {video}: 3 source frame(s) missing" in summary.format()
    out = tmp_path / "release"
    frames = pq.read_table(out / fmt.FRAMES_DIR).to_pandas()
    assert frames["frame"].tolist() == kept  # the missing frames are absent, nothing else is
    assert frames["index"].tolist() == list(range(len(kept)))
    videos = pq.read_table(out / fmt.VIDEOS_PATH).to_pylist()
    assert [v["n_frames"] for v in videos] == [len(kept)]
    manifest = fmt.read_manifest(out)
    assert manifest["config"]["allow_gaps"] is True and "offset_fill" not in manifest["config"]
    assert manifest["summary"]["missing_frames"] == {video: gone}  # the release itself says which are absent
    assert json.loads((out / ".build" / "plan.json").read_text())["missing_frames"] == {video: gone}
    assert json.loads((out / ".build" / "build_log.json").read_text())["missing_frames"] == {video: gone}
