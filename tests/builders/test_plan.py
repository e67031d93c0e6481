"""Planning: units, skipped videos and the plan document that --resume compares."""

import hashlib
from pathlib import Path

from samm_synth_dataset.builders.config import demo_config
from samm_synth_dataset.builders.plan import make_plan, missing_frames


def test_plan_of_the_demo_corpus(demo_corpus, tmp_path: Path) -> None:
    config = demo_config(demo_corpus, tmp_path / "out", exclude_videos=("007_2",))
    plan = make_plan(config)
    videos = [u.video for u in plan.units]
    assert videos == sorted(videos) and len(videos) == 2 * 3  # 2 references × the 3 videos not excluded
    assert ("007_2", "excluded by the config (exclude_videos)") in plan.skipped
    doc = plan.document
    assert doc["units"] == [u.plan_entry() for u in plan.units]
    assert doc["skipped"] == [{"video": v, "reason": r} for v, r in plan.skipped]
    assert doc["config"] == config.effective()
    assert doc["inputs"] == {name: hashlib.sha256(Path(getattr(config, name)).read_bytes()).hexdigest()
                             for name in ("annotations", "subjects")}
    assert plan.missing_frames == doc["missing_frames"] == missing_frames(plan.units) == {}
    assert plan.annotations is not None and len(plan.annotations) > 0


def test_no_annotations_is_refused_unless_no_labels(demo_corpus, tmp_path: Path) -> None:
    """Issue 14 item 1: a release without labels is only built when asked for explicitly."""
    import pytest

    config = demo_config(demo_corpus, tmp_path / "out", annotations=None)
    with pytest.raises(ValueError, match=r"^no --annotations given: the release would carry no labels \(every "
                                         r"frame's me/mae False, no intervals\); give --annotations SHEET, or pass "
                                         r"--no-labels to build an unlabelled release on purpose$"):
        make_plan(config)
    assert not (tmp_path / "out").exists()
    plan = make_plan(config.replace(no_labels=True))
    assert plan.annotations is None and plan.document["config"]["no_labels"] is True
    with pytest.raises(ValueError, match="contradict each other"):
        demo_config(demo_corpus, tmp_path / "out", no_labels=True)


def test_a_missing_input_is_refused_before_the_output_folder_exists(demo_corpus, tmp_path: Path) -> None:
    """Issue 14 item 8: a bad input leaves no 'building' folder behind to block the corrected re-run."""
    import pytest

    from samm_synth_dataset.builders import build

    out = tmp_path / "out"
    config = demo_config(demo_corpus, out, method="stargan-v2", checkpoint=tmp_path / "missing.ckpt",
                         progress=False)
    with pytest.raises(FileNotFoundError, match=rf"^--checkpoint {tmp_path / 'missing.ckpt'}: no such file; "
                                                r"nothing was created \(fix the path and re-run\)$"):
        build(config)
    assert not out.exists()
    with pytest.raises(FileNotFoundError, match=r"^--subjects .*: no such file"):
        make_plan(demo_config(demo_corpus, out, subjects=tmp_path / "nope.csv"))


def test_plan_records_source_fingerprints_and_resolved_paths(demo_corpus, tmp_path: Path, monkeypatch) -> None:
    """Issue 14 item 3: per source video a fingerprint of its frame files; input paths resolved."""
    import os

    from samm_synth_dataset.builders.plan import source_fingerprint

    config = demo_config(demo_corpus, tmp_path / "out", videos=("006_1",), refs_per_subject=1)
    plan = make_plan(config)
    (source,) = {u.source for u in plan.units}
    assert plan.document["sources"] == {"006_1": source_fingerprint(source)}
    fp = source_fingerprint(source)
    assert fp["mode"] == "stat" and fp["files"] == source.n_frames and len(fp["digest"]) == 64
    assert source_fingerprint(source, content=True)["mode"] == "sha256"
    monkeypatch.chdir(demo_corpus.root)
    relative = make_plan(config.replace(source_root=Path(os.path.relpath(demo_corpus.frames_root))))
    assert relative.document["paths"] == plan.document["paths"]
    assert plan.document["paths"]["source_root"] == str(demo_corpus.frames_root.resolve())


def test_a_build_of_zero_videos_is_refused_not_complete(demo_corpus, tmp_path: Path, capsys) -> None:
    """Issue 24 item 12: ``--videos 006_1`` when no reference row covers subject 006 leaves nothing to build; the
    build says so in one line and creates nothing (it used to report an empty release "complete")."""
    import pandas as pd

    from samm_synth_dataset.cli import main

    refs = pd.read_csv(demo_corpus.references_csv)
    only_007 = tmp_path / "refs.csv"
    refs[refs["subject"].astype(str).str.zfill(3) == "007"].assign(
        reference_path=lambda d: [str(demo_corpus.references_csv.parent / p) for p in d["reference_path"]]
    ).to_csv(only_007, index=False)
    out = tmp_path / "out"
    code = main(["build", "--source-root", str(demo_corpus.frames_root), "--references", str(only_007),
                 "--subjects", str(demo_corpus.subjects_csv), "--annotations", str(demo_corpus.annotations),
                 "--videos", "006_1", "--image-size", "32", "--no-progress", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1, err
    assert "nothing to build" in err and "006_1" in err and "nothing was created" in err
    assert not out.exists()
