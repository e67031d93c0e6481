"""The demo corpus's scripted design: who the subjects are, which movements each video holds and where they act.

The subjects are two real people from public-domain photos (:mod:`~samm_synth_dataset.demo.photos`): ``006`` is
Grace Hopper, ``007`` is Eileen Collins. Every video is the subject's neutral greyscale image animated by scripted,
smooth local warps placed from the detected face box:

* ``AU12`` lip corners up and out, ``AU4`` inner brows down and together, ``AU1+2`` brows up;
* micro-expressions (ME) last 40–100 frames with ~1 px peak displacement, macro-expressions (MaE) last ≥106
  frames with 4–5 px; one ME lies inside a MaE; one unlabelled small head translation (a uniform shift).

Conventions
-----------
* :class:`Event` frames are 1-based POSITIONS in the video (1 = first frame); :func:`event_components` turns
  them into SOURCE frame numbers (``first_frame + position - 1``), the numbers of ``events.csv`` and the sheet.
* Facial points (:data:`REGIONS`) are fractions of the detected face box (x right, y down, image left =
  "left"); the rows of ``events.csv`` give centres ``cx``/``cy``, ``sigma`` and peak ``peak_dx``/``peak_dy`` in
  pixels of the source frames (``sigma`` 0 = uniform shift, the head translation).
* Nothing here draws: :mod:`~samm_synth_dataset.demo.animation` renders the frames from these rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Size = Literal["full", "small"]

#: Facial points as fractions (fx, fy) of the detected face box (x right, y down, image left = "left").
#: ``face`` is the box centre, used for the head translation.
REGIONS: dict[str, tuple[float, float]] = {
    "brow_left": (0.30, 0.30),
    "brow_right": (0.70, 0.30),
    "brow_inner_left": (0.40, 0.31),
    "brow_inner_right": (0.60, 0.31),
    "lip_corner_left": (0.36, 0.79),
    "lip_corner_right": (0.64, 0.79),
    "face": (0.50, 0.50),
}

#: Action units → Gaussian components (region, unit direction (ux, uy), sigma as a fraction of the face width).
#: Directions are in image coordinates of the ORIGINAL photo's left/right; mirrored subjects keep them because
#: the components are named by image side ("left" = smaller x), where "out" for a lip corner is away from the
#: face centre either way.
_AU_COMPONENTS: dict[str, tuple[tuple[str, tuple[float, float], float], ...]] = {
    "12": (("lip_corner_left", (-0.6, -0.8), 0.075), ("lip_corner_right", (0.6, -0.8), 0.075)),
    "4": (("brow_inner_left", (0.55, 0.835), 0.07), ("brow_inner_right", (-0.55, 0.835), 0.07)),
    "1+2": (("brow_left", (0.0, -1.0), 0.09), ("brow_right", (0.0, -1.0), 0.09)),
}

_SUBJECTS: dict[str, dict[str, object]] = {
    # subject: the person (demo.photos.PEOPLE), the person its reference faces show, gender, glasses
    "006": {"person": "grace_hopper", "references": "eileen_collins", "gender": "F", "glasses": True},
    "007": {"person": "eileen_collins", "references": "grace_hopper", "gender": "F", "glasses": False},
}


def subject_people() -> tuple[dict[str, str], dict[str, str]]:
    """``({subject: person}, {subject: the person its references show})``, person keys of ``demo.photos``."""
    return ({s: str(v["person"]) for s, v in _SUBJECTS.items()},
            {s: str(v["references"]) for s, v in _SUBJECTS.items()})


@dataclass(frozen=True)
class Event:
    """One scripted movement. Frames are 1-based POSITIONS in the video (1 = first frame).

    ``kind`` is ME, MaE or head (unlabelled). ``onset``/``offset`` of the temporal profile may lie outside
    ``1..n_frames``; the labelled interval is then clipped. ``sheet_quirks`` lists quirks applied to its sheet row
    when quirks are on.
    """

    name: str
    kind: Literal["ME", "MaE", "head"]
    action_units: str
    onset: int
    apex: int
    offset: int
    amplitude: float  # peak displacement in pixels
    shift: tuple[float, float] = (0.0, 0.0)  # head only: unit direction of the uniform shift
    sheet_quirks: tuple[str, ...] = ()
    duplicate_of: str = ""  # quirk duplicate_filename: reuse this event's Filename


@dataclass(frozen=True)
class VideoScript:
    video: str
    subject: str
    first_frame: int
    n_frames: int
    events: tuple[Event, ...]


def _scripts(size: Size) -> list[VideoScript]:
    """The scripted videos. ``small`` is a shorter cut of the same design (every quirk and case is present)."""
    n = 500 if size == "full" else 270
    full = size == "full"
    v006_1 = [
        Event("e1", "MaE", "12", 40, 100, 180, 4.0),
        Event("e2", "ME", "1+2", 90, 118, 150, 1.0, sheet_quirks=("duplicate_filename",), duplicate_of="e1"),
        Event("h1", "head", "", 200, 225, 250, 3.0, shift=(0.8, -0.6)),
    ]
    v006_2 = [
        Event("e1", "ME", "12", 30, 55, 85, 1.0),
        Event("e2", "MaE", "4", 110, 160, 230, 4.5, sheet_quirks=("apex_missing",)),
    ]
    v007_1 = [
        # in progress at the first frame: the profile starts 30 frames before the video
        Event("e1", "MaE", "1+2", -30, 30, 140, 4.0, sheet_quirks=("onset_zero",)),
        Event("e2", "ME", "4", 160, 185, 210, 0.8),
        # still in progress at the last frame: the profile ends 60 frames after the video
        Event("e3", "MaE", "12", n - 125, n - 40, n + 60, 5.0, sheet_quirks=("offset_past_end",)),
    ]
    v007_2 = [
        Event("e1", "MaE", "4", 20, 70, 140, 4.0, sheet_quirks=("fractional",)),
        Event("e2", "ME", "12", 180, 205, 240, 1.2),  # frames 9980..10040: crosses 9999 -> 10000
    ]
    if full:
        v006_1 += [Event("e3", "ME", "4", 300, 330, 370, 1.2),
                   Event("e4", "MaE", "1+2", 380, 440, 495, 5.0)]
        v006_2 += [Event("h1", "head", "", 250, 280, 320, 2.5, shift=(-0.6, 0.8)),
                   Event("e3", "ME", "1+2", 330, 355, 380, 1.0),
                   Event("e4", "MaE", "12", 385, 440, 495, 4.0)]
        v007_1 = v007_1[:2] + [Event("h1", "head", "", 230, 255, 290, 3.0, shift=(1.0, 0.0)),
                               Event("e4", "ME", "1+2", 300, 325, 360, 1.0)] + v007_1[2:]
        v007_2 += [Event("e3", "MaE", "12", 280, 340, 420, 4.5),
                   Event("e4", "ME", "1+2", 320, 345, 380, 1.0),
                   Event("h1", "head", "", 440, 465, 490, 2.0, shift=(0.0, 1.0))]
    return [
        VideoScript("006_1", "006", 1, n, tuple(v006_1)),
        VideoScript("006_2", "006", 1, n, tuple(v006_2)),
        VideoScript("007_1", "007", 1, n, tuple(v007_1)),
        VideoScript("007_2", "007", 9801, n, tuple(v007_2)),
    ]


def check_design(scripts: list[VideoScript]) -> None:
    """Raise ValueError unless the scripts meet the corpus design: labelled intervals (clipped to the video) of
    MEs last 40–100 frames with peak 0.5–1.5 px, of MaEs ≥ 106 frames with 3–6 px; onset ≤ apex ≤ offset; only
    the ``onset_zero``/``offset_past_end`` events run past the video; at least one ME inside a MaE and one head
    translation; each AU kind and each sheet quirk present."""
    quirks: list[str] = []
    me_in_mae = heads = 0
    units: set[str] = set()
    for script in scripts:
        spans = {}
        for ev in script.events:
            where = f"{script.video} {ev.name}"
            quirks += ev.sheet_quirks
            if not ev.onset <= ev.apex <= ev.offset:
                raise ValueError(f"{where}: onset ≤ apex ≤ offset violated")
            if (ev.onset < 1) != ("onset_zero" in ev.sheet_quirks) or (
                    (ev.offset > script.n_frames) != ("offset_past_end" in ev.sheet_quirks)):
                raise ValueError(f"{where}: only the onset_zero/offset_past_end events may leave the video")
            if ev.kind == "head":
                heads += 1
                continue
            units.add(ev.action_units)
            start, stop = max(ev.onset, 1), min(ev.offset, script.n_frames)
            spans[ev.name] = (ev.kind, start, stop)
            length = stop - start + 1
            ok = (40 <= length <= 100 and 0.5 <= ev.amplitude <= 1.5) if ev.kind == "ME" else (
                length >= 106 and 3.0 <= ev.amplitude <= 6.0)
            if not ok:
                raise ValueError(f"{where}: {ev.kind} of {length} frames and {ev.amplitude} px is off the design")
        me_in_mae += sum(1 for k, a, b in spans.values() if k == "ME" and any(
            k2 == "MaE" and a2 <= a and b <= b2 for k2, a2, b2 in spans.values()))
    missing = {"fractional", "apex_missing", "onset_zero", "duplicate_filename", "offset_past_end"} - set(quirks)
    if missing or me_in_mae == 0 or heads == 0 or units != set(_AU_COMPONENTS):
        raise ValueError(f"demo design incomplete: quirks missing {sorted(missing)}, {me_in_mae} ME inside MaE, "
                         f"{heads} head translations, AUs {sorted(units)}")


def event_components(script: VideoScript, face: tuple[int, int, int, int]) -> list[dict[str, object]]:
    """Rows of ``events.csv`` for one video (one per Gaussian component or uniform shift)."""
    x, y, w, h = face
    rows: list[dict[str, object]] = []
    for ev in script.events:
        onset = script.first_frame + ev.onset - 1
        apex = script.first_frame + ev.apex - 1
        offset = script.first_frame + ev.offset - 1
        common = {"video": script.video, "event": f"{script.video}_{ev.name}", "kind": ev.kind,
                  "labelled": ev.kind != "head", "action_units": ev.action_units,
                  "onset": onset, "apex": apex, "offset": offset, "amplitude": ev.amplitude}
        if ev.kind == "head":
            rows.append({**common, "component": 1, "region": "face", "cx": x + 0.5 * w, "cy": y + 0.5 * h,
                         "sigma": 0.0, "peak_dx": ev.amplitude * ev.shift[0],
                         "peak_dy": ev.amplitude * ev.shift[1]})
            continue
        for i, (region, (ux, uy), sigma_frac) in enumerate(_AU_COMPONENTS[ev.action_units], start=1):
            fx, fy = REGIONS[region]
            rows.append({**common, "component": i, "region": region, "cx": x + fx * w, "cy": y + fy * h,
                         "sigma": sigma_frac * w, "peak_dx": ev.amplitude * ux, "peak_dy": ev.amplitude * uy})
    return rows
