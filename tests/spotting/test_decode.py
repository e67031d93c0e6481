"""Score curves → intervals on hand-made curves, and the submission CSV read back by the MEGC scorer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from samm_synth_dataset.spotting import decode as D
from samm_synth_dataset.spotting.scorer import score_spotting


def bump(n: int, centre: float, height: float = 1.0, width: float = 3.0) -> np.ndarray:
    x = np.arange(n, dtype=np.float64)
    return height * np.exp(-0.5 * ((x - centre) / width) ** 2)


def test_frame_scores_centre_each_pair_in_its_window() -> None:
    # Pair 2 spans positions [2, 6] with k = 4: its score belongs to frame 2 + 4 // 2 = 4.
    curve = D.frame_scores(np.array([0, 0, 1, 0, 0.0]), k=4)
    assert curve.tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 0]
    # Edges repeat the nearest pair; odd k puts the extra frame at the end.
    assert D.frame_scores(np.array([5.0, 7.0]), k=3).tolist() == [5, 5, 7, 7, 7]


def test_known_peaks_give_known_intervals() -> None:
    curve = bump(200, 50) + bump(200, 150, height=0.4)
    frames = np.arange(1, 201)  # 1-based source frames
    # T = mean + 0.55 (max - mean): only the tall bump at position 50 → [45, 55] → frames 46..56.
    assert D.spot_intervals(curve, k=5, frames=frames) == [(46, 56)]
    # A lower p keeps both, in frame order.
    assert D.spot_intervals(curve, k=5, frames=frames, p=0.1) == [(46, 56), (146, 156)]


def test_nearby_peaks_give_one_interval_when_k_is_large() -> None:
    curve = bump(200, 50) + bump(200, 70, height=0.9)
    assert D.spot_intervals(curve, k=5, frames=np.arange(200)) == [(45, 55), (65, 75)]
    # k = 15: the 31-frame moving mean fuses the two bumps; one peak between them (nearer the taller one).
    [(onset, offset)] = D.spot_intervals(curve, k=15, frames=np.arange(200))
    assert offset - onset == 30 and 50 <= onset + 15 <= 60


def test_flat_curve_gives_nothing() -> None:
    assert D.spot_intervals(np.full(100, 0.3), k=5, frames=np.arange(100)) == []
    assert D.spot_intervals(np.zeros(100), k=5, frames=np.arange(100)) == []


def test_interval_clipped_to_the_video() -> None:
    # Peak at position 8 with k = 10: [-2, 18] clipped to [0, 18]; frames 1-based.
    curve = bump(100, 8, width=2)
    [(onset, offset)] = D.spot_intervals(curve, k=10, frames=np.arange(1, 101))
    assert onset == 1 and 15 <= offset <= 19


def test_gapped_frames_map_positions_to_source_numbers() -> None:
    frames = np.arange(1000, 1400, 2)  # 200 positions, every other source frame
    assert D.spot_intervals(bump(200, 50), k=5, frames=frames) == [(1090, 1110)]


def test_threshold_rule() -> None:
    s = np.array([0.0, 0.0, 1.0, 0.0])
    assert D.threshold(s, 0.55) == pytest.approx(0.25 + 0.55 * 0.75)


@pytest.mark.parametrize(
    ("curve", "frames", "message"),
    [
        (np.zeros(10), np.arange(9), "9 frame numbers for 10 scores"),
        (np.array([0, np.nan, 0.0]), np.arange(3), "position 1"),
        (np.zeros(0), np.arange(0), "non-empty"),
    ],
)
def test_bad_curves(curve: np.ndarray, frames: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        D.spot_intervals(curve, k=2, frames=frames, video="006_1")


def test_submission_round_trip_through_the_scorer(tmp_path: Path) -> None:
    frames = np.arange(1, 201)
    rows = [("006_1", *iv, "MaE") for iv in D.spot_intervals(bump(200, 50), 5, frames)]
    rows += [("006_1", *iv, "ME") for iv in D.spot_intervals(bump(200, 120), 3, frames)]
    path = D.write_submission(tmp_path / "fold" / "pred.csv", rows)
    text = path.read_text().splitlines()
    assert text == ["vid,onset,offset,type", "006_1,46,56,mae", "006_1,118,124,me"]
    gt = pd.DataFrame({"vid": ["006_1", "006_1", "006_1"], "onset": [47, 119, 170], "offset": [57, 124, 180],
                       "type": ["mae", "me", "mae"]})
    scores = score_spotting(path, gt)
    assert (scores["MaE"]["tp"], scores["MaE"]["fn"], scores["ME"]["tp"]) == (1, 1, 1)


def test_submission_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="kind must be ME or MaE"):
        D.submission_frame([("006_1", 1, 2, "micro")])
