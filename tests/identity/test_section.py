"""The report's identity section on the builder's real colour-transfer release (real dlib models): every video
still shows the source person, the claim says so, results are cached; skipped with the reason when it cannot run."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from samm_synth_dataset import format as fmt
from samm_synth_dataset.identity import descriptor as I, section as R


def _ctx(release: Path, source_root: Path | None, **settings):
    from samm_synth_dataset.metrics.data import read_intervals, read_videos
    from samm_synth_dataset.report.context import ReportContext, ReportSettings

    figures = release / "quality" / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    return ReportContext(release=release, manifest=fmt.read_manifest(release), videos=read_videos(release),
                         intervals=read_intervals(release), figures=figures, source_root=source_root,
                         settings=ReportSettings(progress=False, **settings))


def _section(ctx):
    from samm_synth_dataset.report.report import identity_section

    return identity_section(ctx)


@pytest.fixture
def describer_or_skip() -> None:
    try:
        R._describer()
    except I.IdentityUnavailable as exc:
        pytest.skip(exc.reason)


def test_colour_transfer_videos_are_still_recognisable(small_release_copy: Path, demo_corpus,
                                                       describer_or_skip) -> None:
    release = small_release_copy
    sec = _section(_ctx(release, demo_corpus.frames_root, identity_samples=2))
    assert sec.skipped == {}                                   # every reference image found through the CSV
    res = sec.result
    summary = res["summary"]
    assert summary["videos"] == 8 and summary["recognisable"] == 8 and summary["changed"] == 0
    table = pd.DataFrame(res["per_video"])
    assert (table["synthetic_to_original"] < 0.6).all()
    assert table["synthetic_to_reference"].notna().all() and table["original_to_reference"].notna().all()
    assert (table["threshold"] == 0.6).all() and set(table["method"]) == {"color-transfer"}
    claim = sec.claims["identity"]
    assert claim.startswith("In 8 of 8 synthetic videos the source person is still recognisable in ≥ 90% of "
                            "sampled frames")
    assert "threshold 0.6" in claim and "2 frames sampled per video" in claim
    assert "do not anonymise anyone" in claim
    assert sec.headline["identity"]["rows"][0][:6] == ["color-transfer", 8, 8, 0, 0, 0]
    figures = release / "quality" / "figures"
    assert (figures / R.SCATTER_FIGURE).is_file() and (figures / R.STRIP_FIGURE).is_file()
    # 4 originals and 4 references shared by 8 videos: each described once, by a task of its own
    stage = release / fmt.STAGES_DIR / "report"
    assert len(list((stage / "identity-shared" / "done").iterdir())) == 4 + 4
    cached = {p: p.stat().st_mtime_ns for p in (stage / "identity" / "done").glob("*/identity.json")}
    assert len(cached) == 8
    assert fmt.verify(release).ok                              # the task folders live in .build/, never listed

    # cached: nothing recomputed, same distances; judged against another threshold, the claim follows
    again = _section(_ctx(release, demo_corpus.frames_root, identity_samples=2, identity_threshold=0.01))
    assert {p: p.stat().st_mtime_ns for p in (stage / "identity" / "done").glob("*/identity.json")} == cached
    assert pd.DataFrame(again.result["per_video"])["synthetic_to_original"].tolist() == \
        table["synthetic_to_original"].tolist()
    assert again.result["summary"]["changed"] == 8
    assert "in 8 of 8 the identity changed" in again.claims["identity"] and "threshold 0.01" in again.claims["identity"]


def test_a_changed_reference_image_is_named_not_guessed(small_release_copy: Path, demo_corpus, tmp_path: Path,
                                                        describer_or_skip) -> None:
    refs = tmp_path / "refs"
    shutil.copytree(Path(demo_corpus.references_csv).parent, refs)
    csv_path = refs / Path(demo_corpus.references_csv).name
    first = csv_path.read_text().splitlines()[1].split(",")[1]
    (refs / first).write_bytes((refs / first).read_bytes() + b"\0")           # one image changed since the build
    manifest = json.loads((small_release_copy / fmt.MANIFEST).read_text())
    manifest["config"]["references"] = str(csv_path)
    (small_release_copy / fmt.MANIFEST).write_text(json.dumps(manifest))
    sec = _section(_ctx(small_release_copy, demo_corpus.frames_root, identity_samples=1))
    why = sec.skipped["identity:references"]
    assert "differs from the image the build used" in why and first.split("/")[-1] in why
    missing = sec.result["references_missing"]
    assert len(missing) == 2                                                  # the two videos of that reference
    table = pd.DataFrame(sec.result["per_video"]).set_index("video")
    assert table.loc[list(missing), "synthetic_to_reference"].isna().all()
    assert table.drop(index=list(missing))["synthetic_to_reference"].notna().all()


def test_skipped_without_dlib(small_release_copy: Path, demo_corpus, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "dlib", None)  # what Python does when a module cannot be imported
    monkeypatch.setattr(R, "_DESCRIBER", None)
    sec = _section(_ctx(small_release_copy, demo_corpus.frames_root))
    assert "pip install dlib-bin" in sec.skipped["identity"] and "pip install dlib-bin" in sec.result["skipped"]
    assert sec.claims == {} and sec.headline == {}


def test_skipped_without_original_frames(small_release_copy: Path, tmp_path: Path, describer_or_skip) -> None:
    from samm_synth_dataset.report.report import NO_SOURCE_ROOT

    sec = _section(_ctx(small_release_copy, None))
    assert sec.result == {"skipped": NO_SOURCE_ROOT} and sec.claims == {}
    sec = _section(_ctx(small_release_copy, tmp_path / "nowhere", identity_samples=1))
    assert "of no video were found" in sec.skipped["identity"] and sec.claims == {}
    records = [json.loads(p.read_text()) for p in
               (small_release_copy / fmt.STAGES_DIR / "report" / "identity" / "done").glob("*/identity.json")]
    assert len(records) == 8 and all(r["identity"] is None and "nowhere" in r["skipped"] for r in records)


def test_claim_words() -> None:
    summary = {"videos": 5, "recognisable": 1, "mixed": 1, "changed": 2, "unmeasured": 1, "by_method": {
        "stargan-v2": {"videos": 5, "recognisable": 1, "mixed": 1, "changed": 2, "unmeasured": 1}}}
    text = R.claim(summary, 0.6, 25, not_measured=2)
    assert text.startswith("In 1 of 4 synthetic videos the source person is still recognisable")
    assert "in 2 of 4 the identity changed" in text and "1 of 4 are in between" in text
    assert "3 video(s) were not measured" in text and "anonymise" not in text
    none = dict(summary, recognisable=0, mixed=0, changed=0, unmeasured=5)
    assert R.claim(none, 0.6, 25).startswith("Identity change was not measured")


def test_two_workers_describe_each_shared_original_and_reference_once(small_release_copy: Path, demo_corpus,
                                                                      describer_or_skip) -> None:
    """8 videos share 4 originals and 4 references: on 2 workers the shared descriptors are a part of their own,
    so no two videos of one original describe it at once; each video's task computes only its synthetic frames."""
    from samm_synth_dataset.stages import Stage

    release = small_release_copy
    ctx = _ctx(release, demo_corpus.frames_root, identity_samples=2)
    with Stage(release, "report", rerun="-", workers=2, progress=False) as stage:
        ctx.stage = stage
        R.describe_videos(ctx)
        shared = sorted(p.name for p in (stage.root / "identity-shared" / "done").iterdir())
        records = [json.loads((p / "identity.json").read_text())
                   for p in sorted((stage.root / "identity" / "done").iterdir())]
    assert len(shared) == 4 + 4
    assert sum(n.startswith("original-") for n in shared) == 4
    assert len(records) == 8 and all(r["skipped"] is None and r["faces"] == 2 for r in records), records
    # the section reads them (its own stage finds every task done), the same result as in one process
    two = _section(_ctx(release, demo_corpus.frames_root, identity_samples=2)).result["per_video"]
    shutil.rmtree(release / fmt.STAGES_DIR / "report")
    one = _section(_ctx(release, demo_corpus.frames_root, identity_samples=2, workers=1)).result["per_video"]
    assert pd.DataFrame(two).equals(pd.DataFrame(one))


def test_an_original_is_shared_by_its_crop_size_and_frames_not_by_its_reference() -> None:
    """The shared-descriptor task of an original: the same for every synthetic video of that original (any
    reference), another for other frames or another crop."""
    row = {"video": "006_1-ref01", "source_video": "006_1", "crop": {"x": 10, "y": 20, "w": 200, "h": 200},
           "width": 128, "height": 128, "reference_sha256": "ab" * 32}
    key = R._shared_id("original", row, [1, 50, 99])
    assert key.startswith("original-") and len(key) == len("original-") + 64
    assert key == R._shared_id("original", {**row, "video": "006_1-ref02", "reference_sha256": "ef" * 32},
                               [1, 50, 99])
    assert key != R._shared_id("original", row, [1, 50, 100])
    assert key != R._shared_id("original", {**row, "crop": {"x": 11, "y": 20, "w": 200, "h": 200}}, [1, 50, 99])
    assert R._shared_id("reference", row, [1]) == "reference-" + "ab" * 32
