"""The real-face demo corpus: SAMM-LV layout, workbook as real loaders read it, exact ground truth, determinism."""

from __future__ import annotations

import hashlib
import math
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import openpyxl
import pandas as pd
import pytest

from samm_synth_dataset.demo import choreography as demo
from samm_synth_dataset.demo.animation import frame_name, temporal_profile, warp
from samm_synth_dataset.demo.corpus import (
    DemoCorpus, load_displacement_table, load_ground_truth, load_videos_table, make_demo_corpus, neutral_image,
    true_displacement,
)
from samm_synth_dataset.demo.workbook import SHEET_COLUMNS

QUIRKS = {"fractional", "apex_missing", "onset_zero", "duplicate_filename", "offset_past_end"}
FRAME_RE = re.compile(r"^(?P<video>\d{3}_\d)_(?P<n>\d{4,})\.jpg$")


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _frame_path(corpus: DemoCorpus, video: str, frame: int) -> Path:
    return corpus.frames_root / video / frame_name(video, frame)


def _active(events: pd.DataFrame | list, video: str, frame: int) -> list:
    """Warp components (rows of events.csv) of ``video`` whose temporal profile is non-zero at ``frame``."""
    rows = list(events.itertuples()) if isinstance(events, pd.DataFrame) else events
    return [r for r in rows if r.video == video and temporal_profile(frame, r.onset, r.apex, r.offset) > 0]


@pytest.fixture(scope="module")
def clean_corpus(tmp_path_factory: pytest.TempPathFactory) -> DemoCorpus:
    """The same small corpus without the sheet's quirks."""
    return make_demo_corpus(tmp_path_factory.mktemp("demo_clean") / "corpus", seed=0, size="small", quirks=False)


# ------------------------------------------------------------------------------------------------- layout


def test_layout_and_frame_names(demo_corpus: DemoCorpus) -> None:
    assert demo_corpus.frames_root == demo_corpus.root / "SAMM_longvideos"
    assert demo_corpus.annotations.name == "SAMM_LongVideos_Demo.xlsx" and demo_corpus.annotations.is_file()
    assert len(demo_corpus.videos) >= 4
    subjects = {v.split("_")[0] for v in demo_corpus.videos}
    assert len(subjects) >= 2 and all(re.fullmatch(r"\d{3}", s) for s in subjects)
    videos = load_videos_table(demo_corpus.root).set_index("video")
    assert sorted(p.name for p in demo_corpus.frames_root.iterdir()) == sorted(demo_corpus.videos)
    widths: set[int] = set()
    for video in demo_corpus.videos:
        assert re.fullmatch(r"\d{3}_\d", video)
        names = [p.name for p in (demo_corpus.frames_root / video).iterdir()]
        numbers = []
        for name in names:
            m = FRAME_RE.match(name)
            assert m and m["video"] == video, name
            assert m["n"] == f"{int(m['n']):04d}", f"{name}: padding must be 4 digits (5 past 9999)"
            numbers.append(int(m["n"]))
            widths.add(len(m["n"]))
        numbers.sort()
        info = videos.loc[video]
        assert numbers == list(range(int(info["first_frame"]), int(info["last_frame"]) + 1))
        assert numbers[0] >= 1 and int(info["fps"]) == 200
        assert 250 <= len(numbers) <= 300  # small: ~1.3 s at 200 fps
    assert widths == {4, 5}
    assert (demo_corpus.frames_root / "007_2" / "007_2_9999.jpg").is_file()
    assert (demo_corpus.frames_root / "007_2" / "007_2_10000.jpg").is_file()
    assert videos.loc["006_1", "first_frame"] == 1


def test_frames_are_greyscale_8bit_jpeg(demo_corpus: DemoCorpus) -> None:
    for video in demo_corpus.videos:
        path = next((demo_corpus.frames_root / video).iterdir())
        assert path.read_bytes()[:3] == b"\xff\xd8\xff"
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        assert image.dtype == np.uint8 and image.ndim == 2, path


def test_haar_cascade_finds_the_face_in_every_frame(demo_corpus: DemoCorpus) -> None:
    """Every frame file is checked; byte-identical frames (the neutral stretches) are decoded once."""
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    assert not cascade.empty()
    videos = load_videos_table(demo_corpus.root).set_index("video")
    seen: dict[str, bool] = {}
    checked = 0
    for video in demo_corpus.videos:
        info = videos.loc[video]
        gx, gy, gw, gh = (int(info[k]) for k in ("face_x", "face_y", "face_w", "face_h"))
        for path in sorted((demo_corpus.frames_root / video).iterdir()):
            digest = hashlib.sha1(path.read_bytes()).hexdigest()
            checked += 1
            if digest not in seen:
                gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
                side = min(gray.shape)
                boxes = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(side // 3,) * 2)
                ious = []
                for x, y, w, h in boxes:
                    ix = max(0, min(x + w, gx + gw) - max(x, gx))
                    iy = max(0, min(y + h, gy + gh) - max(y, gy))
                    ious.append(ix * iy / (w * h + gw * gh - ix * iy))
                seen[digest] = bool(ious) and max(ious) > 0.6
            assert seen[digest], f"{path}: the Haar cascade does not find the face"
    assert checked == int(videos["n_frames"].sum())


# ---------------------------------------------------------------------------------------------- workbook


def _check_sheet_against_truth(sheet: pd.DataFrame, corpus: DemoCorpus, subject_as_int: bool) -> None:
    """Every true interval comes back from the sheet rows, the quirks undone the way readers undo them."""
    intervals, _ = load_ground_truth(corpus.root)
    videos = load_videos_table(corpus.root).set_index("video")
    assert len(sheet) == len(intervals)
    for (_, row), truth in zip(sheet.iterrows(), intervals.itertuples()):
        where = f"sheet row {truth.sheet_row} ({truth.event})"
        quirks = set(filter(None, truth.quirk.split(";")))
        assert row["Subject"] == (int(truth.subject) if subject_as_int else truth.subject), where
        assert row["Filename"] == truth.source_id, where
        assert "_".join(row["Filename"].split("_")[:2]) == truth.video, where
        assert row["Inducement Code"] == int(truth.video.split("_")[1]), where
        assert row["Type"] == ("Macro" if truth.kind == "MaE" else "Micro - 1/2"), where
        assert str(row["Action Units"]) == truth.action_units, where
        assert float(row["Duration"]) == float(row["Offset"]) - float(row["Onset"]) + 1, where  # cached value
        first, last = int(videos.loc[truth.video, "first_frame"]), int(videos.loc[truth.video, "last_frame"])
        onset, apex, offset = float(row["Onset"]), float(row["Apex"]), float(row["Offset"])
        if "onset_zero" in quirks:
            assert onset == 0 and truth.onset == first, where
        elif "fractional" in quirks:
            assert onset != int(onset) and int(onset + 0.5) == truth.onset, where
        else:
            assert onset == truth.onset, where
        if "apex_missing" in quirks:
            assert apex == -1, where
        elif "fractional" in quirks:
            assert apex != int(apex) and int(apex + 0.5) == truth.apex, where
        else:
            assert apex == truth.apex, where
        if "offset_past_end" in quirks:
            assert offset > last and truth.offset == last, where
        else:
            assert offset == truth.offset <= last, where
        # what a reader recomputes for Duration after undoing the quirks = the true length
        recomputed = min(offset, last) - max(int(onset + 0.5), first) + 1
        assert recomputed == truth.offset - truth.onset + 1, where
        if truth.notes:
            assert row["Notes"] == truth.notes, where
        else:
            assert pd.isna(row["Notes"]), where


def test_workbook_read_like_softnet(demo_corpus: DemoCorpus) -> None:
    """header=None, skiprows=10, names=[...] (SoftNet/MEAN/MTSN/ME-TST)."""
    sheet = pd.read_excel(demo_corpus.annotations, sheet_name="FACS_Movement_Only", header=None, skiprows=10,
                          names=list(SHEET_COLUMNS))
    _check_sheet_against_truth(sheet, demo_corpus, subject_as_int=True)


def test_workbook_read_with_header_inference(demo_corpus: DemoCorpus) -> None:
    """sheet_name='FACS_Movement_Only', skiprows=9: pandas finds the header on row 10 (SAMMDataset)."""
    sheet = pd.read_excel(demo_corpus.annotations, sheet_name="FACS_Movement_Only", skiprows=9,
                          dtype={"Subject": str})
    assert tuple(sheet.columns) == SHEET_COLUMNS
    _check_sheet_against_truth(sheet, demo_corpus, subject_as_int=False)


def test_workbook_layout_with_openpyxl(demo_corpus: DemoCorpus) -> None:
    wb = openpyxl.load_workbook(demo_corpus.annotations)
    assert wb.sheetnames == ["FACS_Movement_Only"]
    ws = wb["FACS_Movement_Only"]
    assert ws["A1"].value == "SAMM Long Videos Dataset - FACS Codes"
    assert ws["F7"].value == "NOTE: Subjects with Apex Frame not annotated were labelled as -1."
    assert any('"/" = or' in str(c.value) for row in ws.iter_rows(min_row=2, max_row=9) for c in row if c.value)
    assert [c.value for c in ws[10]] == list(SHEET_COLUMNS)
    intervals, _ = load_ground_truth(demo_corpus.root)
    assert list(intervals["sheet_row"]) == list(range(11, 11 + len(intervals)))
    assert ws.max_row == 10 + len(intervals)
    for r in intervals["sheet_row"]:
        assert ws.cell(r, 1).data_type == "s" and re.fullmatch(r"\d{3}", ws.cell(r, 1).value)
        assert isinstance(ws.cell(r, 3).value, int)
        assert ws.cell(r, 7).data_type == "f" and ws.cell(r, 7).value == f"=SUM(F{r}-D{r})+1"
    # data_only=True: the formulas' cached values, as Excel stores them
    values = openpyxl.load_workbook(demo_corpus.annotations, data_only=True)["FACS_Movement_Only"]
    for r in intervals["sheet_row"]:
        assert values.cell(r, 7).value == values.cell(r, 6).value - values.cell(r, 4).value + 1


def test_every_quirk_once_and_duplicate_filename(demo_corpus: DemoCorpus, clean_corpus: DemoCorpus) -> None:
    intervals, _ = load_ground_truth(demo_corpus.root)
    found = [q for cell in intervals["quirk"] for q in cell.split(";") if q]
    assert sorted(found) == sorted(QUIRKS)
    dup = intervals[intervals["source_id"].duplicated(keep=False)]
    assert len(dup) == 2 and set(dup["kind"]) == {"ME", "MaE"}
    sheet = pd.read_excel(demo_corpus.annotations, sheet_name="FACS_Movement_Only", skiprows=9)
    dup_sheet = sheet[sheet["Filename"].duplicated(keep=False)]
    assert sorted(dup_sheet["Type"]) == ["Macro", "Micro - 1/2"]
    # without quirks: unique Filenames numbered 1.. per video, and the sheet shows the true numbers
    clean, _ = load_ground_truth(clean_corpus.root)
    assert clean["source_id"].is_unique and (clean["quirk"] == "").all()
    for video, group in clean.groupby("video"):
        assert list(group["source_id"]) == [f"{video}_{i}" for i in range(1, len(group) + 1)]
    clean_sheet = pd.read_excel(clean_corpus.annotations, sheet_name="FACS_Movement_Only", skiprows=9)
    assert list(clean_sheet["Onset"]) == list(clean["onset"])
    assert list(clean_sheet["Apex"]) == list(clean["apex"])
    assert list(clean_sheet["Offset"]) == list(clean["offset"])
    # the true intervals do not depend on the quirks
    cols = ["event", "video", "onset", "apex", "offset", "kind", "action_units", "region"]
    pd.testing.assert_frame_equal(intervals[cols], clean[cols])


# ------------------------------------------------------------------------------------------ ground truth


def test_scripted_events_meet_the_design(demo_corpus: DemoCorpus) -> None:
    intervals, events = load_ground_truth(demo_corpus.root)
    labelled = events[events["labelled"]]
    assert set(labelled["event"]) == set(intervals["event"])
    assert {"12", "4", "1+2"} <= set(intervals["action_units"])
    for row in intervals.itertuples():
        length = row.offset - row.onset + 1
        amp = events[events["event"] == row.event]["amplitude"].iloc[0]
        if row.kind == "ME":
            assert 40 <= length <= 100 and 0.5 <= amp <= 1.5, row.event
        else:
            assert length >= 106 and 3.0 <= amp <= 6.0, row.event
        assert row.onset <= row.apex <= row.offset, row.event
    me_in_mae = [
        (a.event, b.event) for a in intervals.itertuples() for b in intervals.itertuples()
        if a.video == b.video and a.kind == "ME" and b.kind == "MaE" and b.onset <= a.onset and a.offset <= b.offset]
    assert me_in_mae
    for a, _ in me_in_mae:
        assert intervals.set_index("event").loc[a, "notes"] == "Micro inside of a macro"
    head = events[events["kind"] == "head"]
    assert len(head) >= 1 and not head["labelled"].any() and (head["sigma"] == 0).all()
    assert (np.hypot(head["peak_dx"], head["peak_dy"]).between(1.0, 5.0)).all()
    assert not set(head["event"]) & set(intervals["event"])


@pytest.mark.parametrize("size", ["full", "small"])
def test_scripts_meet_the_design(size: str) -> None:
    scripts = demo._scripts(size)  # type: ignore[arg-type]
    demo.check_design(scripts)
    assert len({s.subject for s in scripts}) >= 2 and len(scripts) >= 4
    broken = [demo.VideoScript(scripts[0].video, scripts[0].subject, 1, scripts[0].n_frames,
                                (demo.Event("x", "MaE", "12", 10, 20, 60, 4.0),))] + scripts[1:]
    with pytest.raises(ValueError, match="off the design"):
        demo.check_design(broken)


def test_true_displacement_zero_outside_events_nonzero_inside(demo_corpus: DemoCorpus) -> None:
    intervals, events = load_ground_truth(demo_corpus.root)
    videos = load_videos_table(demo_corpus.root).set_index("video")
    table = load_displacement_table(demo_corpus.root)
    assert len(table) == int(videos["n_frames"].sum()) * len(demo.REGIONS)
    peak = {(v, f, r): m for v, f, r, m in zip(table["video"], table["frame"], table["region"],
                                                table["max_magnitude"])}
    for video in demo_corpus.videos:
        info = videos.loc[video]
        video_events = list(events[events["video"] == video].itertuples())
        ys, xs = np.arange(int(info["height"])), np.arange(int(info["width"]))
        for frame in range(int(info["first_frame"]), int(info["last_frame"]) + 1):
            field = true_displacement(demo_corpus.root, video, frame)
            assert field.shape == (int(info["height"]), int(info["width"]), 2) and field.dtype == np.float32
            active = _active(video_events, video, frame)
            magnitude = np.hypot(field[..., 0], field[..., 1])
            if not active:
                assert not field.any(), f"{video} frame {frame}: displacement outside every event"
                assert all(peak[(video, frame, region)] == 0 for region in demo.REGIONS)
                continue
            if all(c.sigma > 0 for c in active):  # local warps only: exactly 0 beyond 5 sigmas of every centre
                near = np.zeros(field.shape[:2], dtype=bool)
                for comp in active:
                    near |= np.outer(np.abs(ys - comp.cy) <= 5 * comp.sigma + 1,
                                     np.abs(xs - comp.cx) <= 5 * comp.sigma + 1)
                far = ~near
                assert far.any() and not field[far].any(), f"{video} frame {frame}: warp is not local"
            for comp in active:
                # non-zero at each active component's centre, and in the per-region table
                value = magnitude[int(round(comp.cy)), int(round(comp.cx))]
                assert value > 0, f"{video} frame {frame}: {comp.event} has no displacement at {comp.region}"
                assert peak[(video, frame, comp.region)] > 0
    # every frame of every labelled interval has motion in its region
    for row in intervals.itertuples():
        regions = set(events[events["event"] == row.event]["region"])
        assert all(peak[(row.video, f, r)] > 0 for f in range(row.onset, row.offset + 1) for r in regions), \
            row.event
        amp = events[events["event"] == row.event]["amplitude"].iloc[0]
        assert max(peak[(row.video, row.apex, r)] for r in regions) >= 0.9 * amp, row.event


def test_displacement_table_matches_true_displacement(demo_corpus: DemoCorpus) -> None:
    intervals, _ = load_ground_truth(demo_corpus.root)
    table = load_displacement_table(demo_corpus.root)
    videos = load_videos_table(demo_corpus.root).set_index("video")
    for row in intervals.itertuples():
        field = true_displacement(demo_corpus.root, row.video, row.apex)
        info = videos.loc[row.video]
        for entry in table[(table["video"] == row.video) & (table["frame"] == row.apex)].itertuples():
            fx, fy = demo.REGIONS[entry.region]
            cx, cy = info["face_x"] + fx * info["face_w"], info["face_y"] + fy * info["face_h"]
            x0, y0 = int(math.floor(cx)), int(math.floor(cy))
            near = field[y0:y0 + 2, x0:x0 + 2].reshape(-1, 2)
            assert near[:, 0].min() - 1e-4 <= entry.dx <= near[:, 0].max() + 1e-4
            assert near[:, 1].min() - 1e-4 <= entry.dy <= near[:, 1].max() + 1e-4


def test_frames_are_the_neutral_warped_by_the_true_displacement(demo_corpus: DemoCorpus) -> None:
    """Differencing the actual frames: outside events they equal the neutral image up to JPEG noise; at an
    apex they differ from it in each of the event's regions and match neutral warped by ``true_displacement``."""
    intervals, events = load_ground_truth(demo_corpus.root)
    videos = load_videos_table(demo_corpus.root).set_index("video")
    for video in demo_corpus.videos:
        neutral = neutral_image(demo_corpus.root, video).astype(np.float64)
        info = videos.loc[video]
        rows = list(events.itertuples())
        still = [f for f in range(int(info["first_frame"]), int(info["last_frame"]) + 1)
                 if not _active(rows, video, f)]
        assert still, video
        digests = {hashlib.sha1(_frame_path(demo_corpus, video, f).read_bytes()).hexdigest() for f in still}
        assert len(digests) == 1, f"{video}: frames outside events should all be the same neutral frame"
        image = cv2.imread(str(_frame_path(demo_corpus, video, still[0])), cv2.IMREAD_GRAYSCALE)
        assert np.abs(image - neutral).mean() < 1.5 and np.abs(image - neutral).max() < 16
    for row in intervals.itertuples():
        neutral = neutral_image(demo_corpus.root, row.video)
        image = cv2.imread(str(_frame_path(demo_corpus, row.video, row.apex)), cv2.IMREAD_GRAYSCALE)
        expected = warp(neutral, true_displacement(demo_corpus.root, row.video, row.apex))
        for comp in events[events["event"] == row.event].itertuples():
            r = int(2 * comp.sigma)
            win = (slice(int(comp.cy) - r, int(comp.cy) + r), slice(int(comp.cx) - r, int(comp.cx) + r))
            moved = np.abs(image[win].astype(float) - neutral[win]).mean()
            jpeg = np.abs(image[win].astype(float) - expected[win]).mean()
            # 2 grey levels: Eileen Collins's brows (an enlarged photo) have less texture than Grace Hopper's
            assert moved > 2.0, f"{row.event} {comp.region}: apex frame barely differs from neutral ({moved:.2f})"
            assert jpeg < 2.0 and jpeg < moved / 2, f"{row.event} {comp.region}: frame is not the applied warp"


def test_onset_zero_event_is_in_progress_at_the_first_frame(demo_corpus: DemoCorpus) -> None:
    intervals, events = load_ground_truth(demo_corpus.root)
    row = intervals[intervals["quirk"].str.contains("onset_zero")].iloc[0]
    first = int(load_videos_table(demo_corpus.root).set_index("video").loc[row["video"], "first_frame"])
    assert row["onset"] == first
    assert (events[events["event"] == row["event"]]["onset"] < first).all()
    assert true_displacement(demo_corpus.root, row["video"], first).any()


def test_temporal_profile() -> None:
    assert temporal_profile(9, 10, 20, 40) == 0.0 and temporal_profile(41, 10, 20, 40) == 0.0
    assert temporal_profile(20, 10, 20, 40) == 1.0
    values = [temporal_profile(f, 10, 20, 40) for f in range(10, 41)]
    assert all(v > 0 for v in values)
    assert values == sorted(values[:11]) + sorted(values[11:], reverse=True)


def test_true_displacement_rejects_bad_input(demo_corpus: DemoCorpus) -> None:
    with pytest.raises(ValueError, match="no video"):
        true_displacement(demo_corpus.root, "999_9", 1)
    with pytest.raises(ValueError, match="outside"):
        true_displacement(demo_corpus.root, "007_2", 1)
    with pytest.raises(FileNotFoundError, match="not a complete demo corpus"):
        load_ground_truth(demo_corpus.root / "SAMM_longvideos")


# ---------------------------------------------------------------------------------- references, subjects


def test_references_and_subjects(demo_corpus: DemoCorpus) -> None:
    refs = pd.read_csv(demo_corpus.references_csv, dtype=str)
    assert list(refs.columns) == ["subject", "reference_path", "domain", "reference_id"]
    assert refs["reference_id"].is_unique and not refs["reference_id"].str.contains(r"\.").any()
    assert set(refs["domain"]) <= {"female", "male"}
    subjects = pd.read_csv(demo_corpus.subjects_csv, dtype={"subject": str})
    assert list(subjects.columns) == ["subject", "gender", "glasses"]
    assert set(subjects["subject"]) == {v.split("_")[0] for v in demo_corpus.videos}
    assert subjects["glasses"].dtype == bool
    assert (refs.groupby("subject").size() >= 2).all() and set(refs["subject"]) == set(subjects["subject"])
    for rel in refs["reference_path"]:
        path = demo_corpus.references_csv.parent / rel
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        assert image is not None and image.ndim == 3 and image.shape[2] == 3, path
        assert np.abs(image[..., 0].astype(int) - image[..., 2]).mean() > 5, f"{path} should be colour"


def test_the_two_subjects_are_two_people_and_their_references_show_the_other(demo_corpus: DemoCorpus) -> None:
    """Issue 25: subject 006 is Grace Hopper and 007 Eileen Collins; dlib's face distance between their first
    frames exceeds 0.6 (dlib's same-person threshold), each subject's references are the other person (closer to
    the other subject than to their own), and the corpus README names both people and their licence."""
    from samm_synth_dataset.identity.descriptor import FaceDescriber, IdentityUnavailable, distance
    from samm_synth_dataset.sources.frames import read_image

    try:
        describer = FaceDescriber()
    except IdentityUnavailable as exc:
        pytest.skip(f"dlib's face models are not installed: {exc}")
    first = {}
    for video in demo_corpus.videos:
        subject = video.split("_")[0]
        if subject not in first:
            path = sorted((demo_corpus.frames_root / video).glob("*.jpg"))[0]
            first[subject] = describer.describe(read_image(path), str(path))
    assert sorted(first) == ["006", "007"]
    assert distance(first["006"], first["007"]) > 0.6
    refs = pd.read_csv(demo_corpus.references_csv, dtype=str)
    for row in refs.itertuples():
        image = cv2.imread(str(demo_corpus.references_csv.parent / row.reference_path))[:, :, ::-1].copy()
        ref = describer.describe(image, row.reference_path)
        other = "007" if row.subject == "006" else "006"
        assert distance(ref, first[other]) < distance(ref, first[row.subject]), row.reference_path
        assert distance(ref, first[row.subject]) > 0.55, row.reference_path
    readme = (demo_corpus.root / "README.md").read_text()
    assert "Grace Hopper" in readme and "Eileen Collins" in readme and "public domain" in readme


# ---------------------------------------------------------------------------------- determinism, CLI, errors


def test_same_seed_same_bytes(demo_corpus: DemoCorpus, clean_corpus: DemoCorpus, tmp_path: Path) -> None:
    # made over an older demo corpus, which it replaces entirely (its stale files go)
    (tmp_path / "again" / "ground_truth").mkdir(parents=True)
    (tmp_path / "again" / "ground_truth" / "corpus.json").write_text("{}")
    (tmp_path / "again" / "stale.txt").write_text("old")
    again = make_demo_corpus(tmp_path / "again", seed=0, size="small", quirks=True)
    assert _tree_digest(again.root) == _tree_digest(demo_corpus.root)
    assert [p.name for p in tmp_path.iterdir()] == ["again"]  # no partial folder left
    # the quirks change the workbook and how the ground truth names sheet rows, never the frames
    frames = {k: v for k, v in _tree_digest(demo_corpus.root).items() if k.startswith("SAMM_longvideos")}
    clean = {k: v for k, v in _tree_digest(clean_corpus.root).items() if k.startswith("SAMM_longvideos")}
    assert frames == clean and len(frames) == sum(load_videos_table(demo_corpus.root)["n_frames"])


def test_cli_make_demo_corpus(tmp_path: Path, demo_corpus: DemoCorpus) -> None:
    out = tmp_path / "cli_corpus"
    proc = subprocess.run([sys.executable, "-m", "samm_synth_dataset.cli", "-q", "make-demo-corpus", "--out",
                           str(out), "--size", "small", "--seed", "1"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout and "SAMM_LongVideos_Demo.xlsx" in proc.stdout
    assert (out / "ground_truth" / "corpus.json").is_file()
    _, ev1 = load_ground_truth(out)
    _, ev0 = load_ground_truth(demo_corpus.root)
    assert not np.allclose(ev1["amplitude"], ev0["amplitude"]), "another seed should vary the events"
    sheet = pd.read_excel(out / "SAMM_LongVideos_Demo.xlsx", sheet_name="FACS_Movement_Only", skiprows=9)
    assert not sheet["Filename"].duplicated().any()  # no --quirks


def test_refuses_a_foreign_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a demo corpus"):
        make_demo_corpus(tmp_path, size="small")
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]  # no partial output left behind
    with pytest.raises(ValueError, match="size"):
        make_demo_corpus(tmp_path / "x", size="huge")  # type: ignore[arg-type]
