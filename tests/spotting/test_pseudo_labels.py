"""Pseudo-labels of pairs (i, i + k) on hand-made intervals."""

from __future__ import annotations

import numpy as np
import pytest

from samm_synth_dataset.spotting.pseudo_labels import pseudo_labels


def test_positions_zero_based() -> None:
    # Pair i spans [i, i + 2]; it overlaps [4, 5] when i <= 5 and i + 2 >= 4: i = 2..5.
    y = pseudo_labels(np.arange(10), [(4, 5)], k=2)
    assert y.dtype == np.float32
    assert y.tolist() == [0, 0, 1, 1, 1, 1, 0, 0]


def test_source_frame_numbers_one_based() -> None:
    # Frames 101..110 at positions 0..9; the 1-frame interval [105, 105] with k = 3: 101 + i <= 105 <= 104 + i.
    y = pseudo_labels(np.arange(101, 111), [(105, 105)], k=3)
    assert np.flatnonzero(y).tolist() == [1, 2, 3, 4]


def test_gapped_frame_numbers_and_two_intervals() -> None:
    frames = np.arange(0, 40, 2)  # every other source frame is kept
    y = pseudo_labels(frames, [(9, 9), (31, 33)], k=1)
    # Pair i spans [2i, 2i + 2]: [9, 9] is inside pair 4 only ([8, 10]); [31, 33] meets pairs 15 ([30, 32]) and
    # 16 ([32, 34]).
    assert np.flatnonzero(y).tolist() == [4, 15, 16]


def test_inclusive_ends_touching() -> None:
    # Pair [0, 3] touches an interval starting at 3 (inclusive ends): positive; pair [4, 7] after offset 3: not.
    y = pseudo_labels(np.arange(8), [(3, 3)], k=3)
    assert y.tolist() == [1, 1, 1, 1, 0]


def test_no_intervals_all_zero() -> None:
    assert not pseudo_labels(np.arange(6), [], k=2).any()


@pytest.mark.parametrize(
    ("frames", "intervals", "k", "message"),
    [
        (np.arange(3), [], 3, "needs more than k frames"),
        (np.arange(5), [(3, 2)], 1, "offset < onset"),
        (np.array([1, 2, 2, 3]), [], 1, "position 2"),
        (np.arange(5), [], 0, "k must be >= 1"),
    ],
)
def test_bad_input(frames: np.ndarray, intervals: list, k: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pseudo_labels(frames, intervals, k, video="006_1")
