"""`croissant.json` (issue 25 item 6): every release gets Croissant 1.0 metadata with its RAI fields, computed from
the release's own files; mlcroissant validates it and reads the tables through it offline; verify refuses one that
no longer states the release, publish uploads it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from samm_synth_dataset import format as fmt
from samm_synth_dataset.release.release import make_release

mlc = pytest.importorskip("mlcroissant", reason="mlcroissant (the dev extra) reads and validates Croissant files")

RAI = ("rai:dataCollection", "rai:dataAnnotationProtocol", "rai:personalSensitiveInformation", "rai:dataBiases",
       "rai:dataLimitations", "rai:dataUseCases", "rai:dataReleaseMaintenancePlan")


@pytest.fixture
def released(mini_release: Path) -> Path:
    make_release(mini_release, "1.2.0", repo_id="org/samm-synth")
    return mini_release


def test_croissant_validates_and_reads_the_tables(released: Path) -> None:
    path = released / fmt.CROISSANT
    doc = json.loads(path.read_text())
    ds = mlc.Dataset(jsonld=path)                   # raises on invalid metadata
    issues = ds.metadata.ctx.issues
    assert not issues.errors, issues.report()
    assert doc["conformsTo"] == "http://mlcommons.org/croissant/1.0" and doc["version"] == "1.2.0"
    frames = pd.concat([pq.read_table(p).to_pandas() for p in sorted((released / fmt.FRAMES_DIR).glob("*.parquet"))])
    rows = list(ds.records("frames"))
    assert len(rows) == len(frames) == fmt.read_manifest(released)["summary"]["frames"]
    got = sorted((r["frames/video"].decode(), int(r["frames/frame"]), bool(r["frames/me"])) for r in rows)
    assert got == sorted(zip(frames["video"], frames["frame"].astype(int), frames["me"].astype(bool)))
    first = next(r for r in rows if r["frames/video"].decode() == frames["video"].iloc[0]
                 and r["frames/frame"] == frames["frame"].iloc[0])
    assert first["frames/image"].size == (16, 16)                              # the image decodes
    assert [i.decode() for i in first["frames/interval_ids"]] == list(frames["interval_ids"].iloc[0])
    videos = pd.read_parquet(released / fmt.VIDEOS_PATH)
    vrows = {r["videos/video"].decode(): r for r in ds.records("videos")}
    assert sorted(vrows) == sorted(videos["video"])
    v = videos.iloc[0]
    assert vrows[v["video"]]["videos/crop"] == {f"videos/crop/{k}": int(v["crop"][k]) for k in "xywh"}
    intervals = pd.read_parquet(released / fmt.INTERVALS_PATH)
    irows = list(ds.records("intervals"))
    assert len(irows) == len(intervals) and sorted(b.decode() for r in irows for b in r["intervals/flags"]) == sorted(
        f for fl in intervals["flags"] for f in fl)


def test_croissant_states_the_release(released: Path) -> None:
    """The file objects carry the manifest's sha256 and sizes; the RAI fields are there and state the release's
    own counts, its label fixes, the identity measurement (or that it is missing) and the version."""
    doc = json.loads((released / fmt.CROISSANT).read_text())
    manifest = fmt.read_manifest(released)
    entries = {f["path"]: f for f in manifest["files"]}
    assert entries[fmt.CROISSANT]["sha256"] == fmt.sha256_file(released / fmt.CROISSANT)
    objects = {o["contentUrl"]: o for o in doc["distribution"] if o["@type"] == "cr:FileObject"}
    data = {p for p in entries if p.startswith("data/")} | {fmt.SPLITS_PATH}
    assert set(objects) == data
    for rel, o in objects.items():
        assert o["sha256"] == entries[rel]["sha256"] == fmt.sha256_file(released / rel)
        assert o["contentSize"] == f"{entries[rel]['bytes']} B"
    assert {rs["@id"] for rs in doc["recordSet"]} == {"frames", "intervals", "videos"}   # no AU tracks here
    for key in RAI:
        assert isinstance(doc[key], str) and len(doc[key]) > 40, key
    intervals = pd.read_parquet(released / fmt.INTERVALS_PATH)
    n_me = int((intervals["kind"] == "ME").sum())
    assert f"the {len(intervals)} intervals ({n_me} ME, {len(intervals) - n_me} MaE)" in doc[
        "rai:dataAnnotationProtocol"]
    assert "apex_missing: 3" in doc["rai:dataAnnotationProtocol"]                # MINI: one per synthetic video
    assert "offset_clipped: 3" in doc["rai:dataAnnotationProtocol"]
    assert "not measured" in doc["rai:personalSensitiveInformation"]
    assert "access requires the source dataset licence" in doc["rai:personalSensitiveInformation"]
    header = yaml.safe_load((released / fmt.CARD).read_text().split("---")[1])
    assert doc["license"] == header["license"]                                  # the card's licence
    assert "Version 1.2.0" in doc["rai:dataReleaseMaintenancePlan"]
    assert "version = {1.2.0}" in doc["citeAs"] and "org/samm-synth" in doc["citeAs"]
    assert fmt.verify(released).ok


def test_croissant_with_aus_and_an_identity_claim(build_mini, tmp_path: Path) -> None:
    release = build_mini(tmp_path / "build", with_aus=True)
    report = release / fmt.REPORT_JSON
    report.parent.mkdir(parents=True, exist_ok=True)
    claim = "Identity: the synthetic faces match their source person in 3 of 3 videos (measured)."
    report.write_text(json.dumps({"headline": {}, "claims": {"identity": claim}}))
    make_release(release, "1.0.0")
    doc = json.loads((release / fmt.CROISSANT).read_text())
    assert {rs["@id"] for rs in doc["recordSet"]} == {"frames", "intervals", "videos", "aus"}
    assert claim in doc["rai:personalSensitiveInformation"]
    ds = mlc.Dataset(jsonld=release / fmt.CROISSANT)
    aus = pd.concat([pd.read_parquet(p) for p in sorted((release / fmt.AUS_DIR).glob("*.parquet"))])
    assert len(list(ds.records("aus"))) == len(aus)


def test_verify_refuses_a_croissant_that_no_longer_states_the_release(released: Path) -> None:
    path = released / fmt.CROISSANT
    good = path.read_bytes()
    doc = json.loads(good)
    doc["rai:dataAnnotationProtocol"] = doc["rai:dataAnnotationProtocol"].replace("3 ME", "4 ME")
    fmt.atomic_write_json(path, doc)
    fmt.add_files(released, [fmt.CROISSANT])                 # listed as it is: only its statements are wrong
    problems = fmt.verify(released).problems
    assert len(problems) == 1 and "rai:dataAnnotationProtocol differ(s)" in problems[0], problems
    doc = json.loads(good)
    frames_obj = next(o for o in doc["distribution"] if o["contentUrl"].startswith(fmt.FRAMES_DIR))
    frames_obj["sha256"] = "0" * 64
    fmt.atomic_write_json(path, doc)
    fmt.add_files(released, [fmt.CROISSANT])
    problems = fmt.verify(released).problems
    assert problems == [f"{fmt.CROISSANT}: the sha256 or size of {frames_obj['contentUrl']} is not the manifest's; "
                        "re-run `samm-synth release` to rewrite it"]
    path.write_text("{not json")
    fmt.add_files(released, [fmt.CROISSANT])
    assert "not valid JSON" in fmt.verify(released).problems[0]
    path.unlink()
    assert any(p.startswith(f"{fmt.CROISSANT}: missing") for p in fmt.verify(released).problems)
    # the same release command, again, rewrites it (a listed file must be there for any command to open the release)
    path.write_text("{not json")
    make_release(released, "1.2.0", repo_id="org/samm-synth")
    assert path.read_bytes() == good and fmt.verify(released).ok
