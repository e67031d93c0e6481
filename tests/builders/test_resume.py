"""Resume checks on the output folder: what is compared, and the one-line refusals."""

import json
import logging
from pathlib import Path

import pytest

from samm_synth_dataset.builders import plan as mf
from samm_synth_dataset.builders.plan import check_output_folder
from samm_synth_dataset.format import BUILD_DIR

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


def _tiny_config(demo_corpus, tmp_path: Path, **changes):
    """One source video (a private copy of 006_1's frames) × one reference, 32×32 frames, Parquet only."""
    import shutil

    from samm_synth_dataset.builders.config import demo_config

    src = tmp_path / "SAMM_longvideos"
    if not src.is_dir():
        shutil.copytree(demo_corpus.frames_root / "006_1", src / "006_1")
    return demo_config(demo_corpus, tmp_path / "release", source_root=src, videos=("006_1",), refs_per_subject=1,
                       formats=("parquet",), image_size=32, face_samples=3, progress=False, **changes)


def _build_not_finalized(config) -> None:
    """Build every unit of ``config`` but stop before finalize, as a build killed there."""
    from unittest import mock

    from samm_synth_dataset import format as fmt
    from samm_synth_dataset.builders import build, pipeline

    with mock.patch.object(pipeline, "_finish", lambda *args: None):
        summary = build(config)
    assert not summary.failed and not summary.complete
    assert fmt.read_manifest(config.out, require_complete=False)["status"] == fmt.STATUS_BUILDING


def test_resume_refuses_source_frames_changed_since_their_units_were_built(demo_corpus, tmp_path: Path) -> None:
    """Issue 14 item 3: an overwritten source JPEG of a built unit is never silently kept in the release."""
    import os

    from samm_synth_dataset.builders import build

    config = _tiny_config(demo_corpus, tmp_path)
    _build_not_finalized(config)  # as if killed before finalize
    frames = sorted((config.source_root / "006_1").glob("*.jpg"))
    frames[40].write_bytes(frames[41].read_bytes())  # another valid JPEG in its place
    with pytest.raises(ValueError, match=r"--resume, but the source frames of \['006_1'\] changed since their "
                                         r"units were built \(file names, sizes or modification times\); "
                                         r"restore them, or build into an empty --out folder$"):
        build(config.replace(resume=True))
    # the content option sees a same-size change with the old modification time, which stat alone cannot
    from samm_synth_dataset.builders.plan import make_plan

    config = _tiny_config(demo_corpus, tmp_path / "hashed", hash_sources=True)
    _build_not_finalized(config)
    stat_before = make_plan(config.replace(hash_sources=False)).document["sources"]
    victim = sorted((config.source_root / "006_1").glob("*.jpg"))[10]
    st = victim.stat()
    data = bytearray(victim.read_bytes())
    data[-3] ^= 0xFF  # inside the entropy-coded data, before the EOI marker
    victim.write_bytes(bytes(data))
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert make_plan(config.replace(hash_sources=False)).document["sources"] == stat_before
    with pytest.raises(ValueError, match=r"changed since their units were built \(file names, sizes, "
                                         r"modification times or bytes\)"):
        build(config.replace(resume=True))


def test_resume_accepts_a_relative_spelling_of_the_same_inputs(demo_corpus, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14 item 3: paths are compared resolved."""
    import os

    from samm_synth_dataset.builders import build

    config = _tiny_config(demo_corpus, tmp_path)
    _build_not_finalized(config)
    monkeypatch.chdir(tmp_path)
    relative = config.replace(source_root=Path(os.path.relpath(config.source_root)), resume=True)
    summary = build(relative)
    assert summary.complete and summary.reused == 1


def test_a_folder_where_nothing_was_built_is_started_afresh(tmp_path: Path) -> None:
    """Issue 14 item 8: a run that stopped before its first part (a bad checkpoint) does not block the corrected
    re-run with other settings, with or without --resume."""
    from samm_synth_dataset import format as fmt

    out = _with_plan(tmp_path, config={"seed": 0, "checkpoint": "bad.ckpt"})
    fmt.write_building_manifest(out, {"seed": 0}, {})
    check_output_folder(out, False, PLAN)
    check_output_folder(out, True, PLAN)
    failed = out / BUILD_DIR / "stages" / "build" / "units" / "failed" / "006_1-ref01.txt"
    failed.parent.mkdir(parents=True)
    failed.write_text("ValueError: bad checkpoint")
    with pytest.raises(ValueError, match="is not empty"):
        check_output_folder(out, False, PLAN)


def _private_references(demo_corpus, tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the demo references; returns (references.csv, the image of subject 006's first row)."""
    import shutil

    refs = tmp_path / "refs"
    shutil.copytree(demo_corpus.references_csv.parent / "references", refs / "references")
    shutil.copy(demo_corpus.references_csv, refs / "references.csv")
    rows = (refs / "references.csv").read_text().splitlines()[1:]
    return refs / "references.csv", refs / next(r.split(",")[1] for r in rows if r.startswith("006,"))


def test_a_broken_reference_image_is_named_and_the_same_command_works_once_it_is_replaced(demo_corpus,
                                                                                         tmp_path: Path):
    """Issue 24 item 13: the failure names the reference and says to replace it (not "re-extract this frame"),
    before anything is created, and after the image is replaced the same command finishes the build (it used to
    be refused on --resume: "config differs in its list of units")."""
    from samm_synth_dataset import format as fmt
    from samm_synth_dataset.builders import build

    references, victim = _private_references(demo_corpus, tmp_path)
    config = _tiny_config(demo_corpus, tmp_path, references=references, resume=True)
    good = victim.read_bytes()
    victim.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)  # not a decodable image any more
    with pytest.raises(RuntimeError) as info:
        build(config)
    reason = str(info.value)
    assert str(victim) in reason and "replace reference" in reason and "re-extract this frame" not in reason
    assert not config.out.exists()
    victim.write_bytes(good)
    summary = build(config)
    assert summary.complete and not summary.failed and fmt.verify(config.out).ok


@pytest.mark.parametrize("image", ["grey", "noise"])
def test_a_reference_without_a_face_is_refused_before_anything_is_built(demo_corpus, tmp_path: Path,
                                                                       image: str) -> None:
    """Issue 24 item 4: a flat grey or noise PNG as reference used to build "complete" with every face a flat
    disc. It is refused by name, nothing is created; --allow-faceless-references builds with it on purpose and is
    recorded in the manifest's config."""
    import cv2
    import numpy as np

    from samm_synth_dataset import format as fmt
    from samm_synth_dataset.builders import build

    references, victim = _private_references(demo_corpus, tmp_path)
    pixels = np.full((256, 256, 3), 128, np.uint8) if image == "grey" else \
        np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    cv2.imwrite(str(victim), pixels)
    config = _tiny_config(demo_corpus, tmp_path, references=references)
    with pytest.raises(ValueError, match=r"reference ref\d+ \(.*\) shows no face .*--allow-faceless-references"):
        build(config)
    assert not config.out.exists()
    summary = build(config.replace(allow_faceless_references=True))
    assert summary.complete
    assert fmt.read_manifest(config.out)["config"]["allow_faceless_references"] is True


def _scramble_a_frame(frames: Path) -> tuple[Path, bytes]:
    """Put 400 random bytes in the middle of the scan data of the middle frame in ``frames`` (its end-of-image
    marker kept); returns the frame's path and its good bytes."""
    import numpy as np

    victim = sorted(frames.glob("*.jpg"))[len(list(frames.glob("*.jpg"))) // 2]
    good = victim.read_bytes()
    middle = (good.index(b"\xff\xda") + len(good)) // 2
    noise = np.random.default_rng(0).integers(0, 255, 400, dtype=np.uint8).tobytes()
    victim.write_bytes(good[:middle] + noise + good[middle + 400:])
    return victim, good


@pytest.mark.parametrize("fix", ["re-extract", "delete"])
def test_a_corrupt_source_frame_is_named_and_fixing_it_finishes_the_build(demo_corpus, tmp_path: Path,
                                                                          fix: str) -> None:
    """Issue 24 item 5: 400 scrambled bytes inside a frame's scan data (end marker intact) used to give a frame
    whose lower half is grey, with only libjpeg's stderr line as a sign. The unit fails naming the file and
    libjpeg's message; re-extracting the frame and re-running with --resume finishes the build, and so does
    deleting it and re-running with --resume --allow-gaps (the frame is then left out as a gap)."""
    from samm_synth_dataset import format as fmt
    from samm_synth_dataset.builders import build

    config = _tiny_config(demo_corpus, tmp_path)
    victim, good = _scramble_a_frame(tmp_path / "SAMM_longvideos" / "006_1")
    summary = build(config)
    assert not summary.complete and len(summary.failed) == 1
    (_, reason), = summary.failed
    assert str(victim) in reason and "Corrupt JPEG data" in reason and "--allow-gaps" in reason
    if fix == "re-extract":
        victim.write_bytes(good)
        summary = build(config.replace(resume=True))
        assert summary.complete and not summary.missing_frames
    else:
        victim.unlink()
        summary = build(config.replace(resume=True, allow_gaps=True))
        assert summary.complete and summary.missing_frames == {"006_1": [int(victim.stem.rsplit("_", 1)[1])]}
    assert fmt.verify(config.out).ok
