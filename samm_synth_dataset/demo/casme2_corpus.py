"""A real-face test corpus in the CAS(ME)² layout, with its 9-column workbook (both emotion columns), quirks included.

The frames are the demo faces (:mod:`samm_synth_dataset.demo.corpus`) animated by its scripted local warps at
30 fps, with CAS(ME)²-length events (micro-expressions 9–13 frames, macro-expressions 25–61). Nothing here is
CAS(ME)² data: the layout, the sheet's columns and the quirks are the real ones, the rows are made up.

Layout written under ``root``::

    rawpic/s<NN>/<NN>_<code><stimulus>/img<n>.jpg   3-channel JPEG, img%03d (img001 … img150), 30 fps
    CAS(ME)^2code_final.xlsx      sheet CASFEcode_final (no header; 9 columns: subject index, expression name,
                                  onset, apex, offset, AUs, estimated emotion, expression type, emotion), sheets
                                  naming rule1 (folder number, folder name, subject index; one row per data row)
                                  and naming rule2 (code '0101' as text, stimulus like disgust1)
    README.md, samm-synth-corpus.json   who is in it and under what licence
    references/…, references.csv  the demo's colour reference faces, subjects renamed s<NN>
    ground_truth/intervals.csv    per sheet row: the TRUE interval and emotions, the values written, the quirk
    ground_truth/events.csv, videos.csv, neutral/   in the demo's format (``demo.corpus.true_displacement``)
    ground_truth/corpus.json      written last

Emotions: every estimated-emotion class (``negative``, ``positive``, ``surprise``, ``others``) and ``Others`` with a
capital (the reader lower-cases it and flags it), self-reported emotions including the real sheet's
``happyiness`` typo. Quirks (``quirks=True``; frames and true intervals do not change): ``offset_zero`` (offset not
annotated), ``apex_zero`` (as s34 ``anger1_1``) and ``offset_before_apex`` (as s27 ``disgust1_5``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from samm_synth_dataset.demo.animation import detect_face, encode_png, neutral_face, write_references
from samm_synth_dataset.demo.casme3_corpus import SCALE, workbook_bytes, write_clip, write_corpus
from samm_synth_dataset.demo.choreography import Event, VideoScript, subject_people
from samm_synth_dataset.demo.photos import write_corpus_about
from samm_synth_dataset.sources.listing import CASME2_FPS

WORKBOOK = "CAS(ME)^2code_final.xlsx"
DATA_SHEET = "CASFEcode_final"
#: CAS(ME)² subject folder → (subject index in the sheet, the demo subject whose face it wears).
SUBJECTS: dict[str, tuple[int, str]] = {"s15": (1, "006"), "s16": (2, "007")}
#: The 'naming rule2' sheet: code → expression-name stem, and the stimulus folder names (``0503unnyfarting``: the
#: typo is in the data).
CODES: dict[str, str] = {"0101": "disgust1", "0102": "disgust2", "0401": "anger1", "0402": "anger2",
                         "0502": "happy1", "0503": "happy2", "0505": "happy3", "0507": "happy4", "0508": "happy5"}
STIMULI: dict[str, str] = {"0101": "disgustingteeth", "0102": "eatingworms", "0401": "girlcrashing",
                           "0402": "beatingpregnantwoman", "0502": "funnyerrors", "0503": "unnyfarting",
                           "0505": "funnyinnovations", "0507": "climbingthewall", "0508": "funnydunkey"}
N_FRAMES = 120

_E = Event
#: (subject folder, code, events with (estimated emotion, emotion, quirk) per event name)
_CLIPS: tuple[tuple[str, str, tuple[tuple[Event, str, str, str], ...]], ...] = (
    ("s15", "0101", ((_E("e1", "MaE", "4", 10, 30, 55, 4.0), "negative", "disgust", "offset_zero"),
                     (_E("e2", "ME", "4", 80, 85, 90, 1.0), "negative", "disgust", ""))),
    ("s15", "0502", ((_E("e1", "MaE", "12", 15, 40, 75, 4.0), "positive", "happiness", ""),
                     (_E("e2", "ME", "1+2", 95, 100, 107, 1.0), "surprise", "surprise", ""))),
    ("s16", "0401", ((_E("e1", "MaE", "4", 20, 45, 70, 4.5), "negative", "anger", "apex_zero"),
                     (_E("e2", "ME", "12", 90, 95, 101, 1.0), "Others", "sympathy", ""))),
    ("s16", "0503", ((_E("e1", "ME", "1+2", 12, 17, 22, 1.0), "others", "confused", ""),
                     (_E("e2", "MaE", "12", 40, 60, 100, 4.0), "positive", "happyiness", "offset_before_apex"))),
)


@dataclass(frozen=True)
class Casme2Corpus:
    """Paths of a generated CAS(ME)²-layout corpus."""

    root: Path
    frames_root: Path
    annotations: Path
    references_csv: Path
    ground_truth: Path
    videos: list[str]


def _sheet_values(ev: Event, quirk: str) -> tuple[int, int, int]:
    """(onset, apex, offset) as the sheet writes ``ev`` with ``quirk``."""
    if quirk == "offset_zero":
        return ev.onset, ev.apex, 0
    if quirk == "apex_zero":
        return ev.onset, 0, ev.offset
    if quirk == "offset_before_apex":
        return ev.onset, ev.offset + 2, ev.offset
    return ev.onset, ev.apex, ev.offset


def _generate(root: Path, quirks: bool) -> list[str]:
    gt = root / "ground_truth"
    (gt / "neutral").mkdir(parents=True)
    neutrals, faces = {}, {}
    for folder, (_, variant) in SUBJECTS.items():
        neutrals[folder] = neutral_face(variant, SCALE)
        faces[folder] = detect_face(neutrals[folder])
        (gt / "neutral" / f"{folder}.png").write_bytes(encode_png(neutrals[folder]))
    component_rows: list[dict[str, object]] = []
    video_rows: list[dict[str, object]] = []
    sheet_rows: list[dict[str, object]] = []
    data: list[list[object]] = []
    rule1: list[list[object]] = []
    counters: dict[str, int] = {}
    for folder, code, events in _CLIPS:
        number = folder[1:]
        video = f"{number}_{code}"
        components, row = write_clip(root / "rawpic" / folder / f"{video}{STIMULI[code]}", lambda n: f"img{n:03d}.jpg",
                                     VideoScript(video, folder, 1, N_FRAMES, tuple(e for e, *_ in events)),
                                     neutrals[folder], faces[folder], CASME2_FPS)
        component_rows += components
        video_rows.append(row)
        for ev, estimated, emotion, quirk in events:
            quirk = quirk if quirks else ""
            stem = CODES[code]
            counters[stem] = counters.get(stem, 0) + 1
            name = f"{stem}_{counters[stem]}"
            onset, apex, offset = _sheet_values(ev, quirk)
            data.append([SUBJECTS[folder][0], name, onset, apex, offset, ev.action_units, estimated,
                         "micro-expression" if ev.kind == "ME" else "macro-expression", emotion])
            rule1.append([int(number), folder, SUBJECTS[folder][0]])
            sheet_rows.append({"sheet_row": len(data), "video": video, "subject": folder, "event": f"{video}_{ev.name}",
                               "expression": name,
                               "kind": ev.kind, "onset": ev.onset, "apex": ev.apex, "offset": ev.offset,
                               "action_units": ev.action_units, "estimated_emotion": estimated.lower(),
                               "emotion": emotion, "notes": "", "quirk": quirk, "sheet_onset": onset, "sheet_apex": apex,
                               "sheet_offset": offset})
    rule2 = [[code, stem] for code, stem in CODES.items()]
    (root / WORKBOOK).write_bytes(workbook_bytes({DATA_SHEET: data, "naming rule1": rule1, "naming rule2": rule2}))
    pd.DataFrame(component_rows).to_csv(gt / "events.csv", index=False)
    pd.DataFrame(video_rows).to_csv(gt / "videos.csv", index=False)
    pd.DataFrame(sheet_rows).to_csv(gt / "intervals.csv", index=False)
    refs = write_references(root, SCALE)
    refs["subject"] = refs["subject"].map({v: k for k, (_, v) in SUBJECTS.items()})
    refs.to_csv(root / "references.csv", index=False)
    people, shown = subject_people()
    write_corpus_about(root, "samm-synth demo corpus (CAS(ME)² layout)",
                       {s: people[d] for s, (_, d) in SUBJECTS.items()}, {s: shown[d] for s, (_, d) in SUBJECTS.items()})
    return [r["video"] for r in video_rows]


def make_casme2_corpus(root: str | Path, quirks: bool = True) -> Casme2Corpus:
    """Write the CAS(ME)²-layout corpus into ``root`` (absent or empty) and return its paths.

    Two subjects (``s15``: videos ``15_0101``, ``15_0502``; ``s16``: ``16_0401``, ``16_0503``), 4 × 120 frames of
    256 × 300, 8 intervals (4 ME, 4 MaE). Deterministic: the same arguments give the same bytes. Built in a
    temporary sibling folder, moved into place when complete.
    """
    def generate(work: Path) -> tuple[list[str], dict[str, object]]:
        videos = _generate(work, quirks)
        return videos, {"generator": "samm_synth_dataset.demo.casme2_corpus", "quirks": quirks, "fps": CASME2_FPS,
                        "videos": videos}

    root = Path(root)
    videos = write_corpus(root, generate)
    return Casme2Corpus(root=root, frames_root=root / "rawpic", annotations=root / WORKBOOK,
                        references_csv=root / "references.csv", ground_truth=root / "ground_truth", videos=videos)
