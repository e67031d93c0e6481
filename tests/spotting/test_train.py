"""Training the baseline: inputs, sample selection, determinism, and learning a tiny synthetic problem."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from samm_synth_dataset.spotting import train as T

S = 42


def synthetic_video(rng: np.random.Generator, n: int, positive: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Features of n pairs: noise everywhere; pairs in ``positive`` (0-based, inclusive) add a strong blob in the
    mouth half of every channel. Labels 1 there."""
    feats = rng.uniform(0, 0.3, (n, S, S, 3)).astype(np.float32)
    labels = np.zeros(n, dtype=np.float32)
    a, b = positive
    yy, xx = np.mgrid[:S, :S]
    blob = np.exp(-(((yy - 31) / 4.0) ** 2 + ((xx - 21) / 8.0) ** 2)).astype(np.float32)
    feats[a:b + 1] += 2.0 * blob[None, :, :, None]
    labels[a:b + 1] = 1.0
    return feats, labels


def test_model_inputs_min_max_per_sample_and_channel() -> None:
    x = np.zeros((2, S, S, 3), dtype=np.float32)
    x[0, ..., 0] = np.linspace(2, 5, S * S).reshape(S, S)
    x[0, ..., 1] = 7.0  # constant → 0
    x[1, ..., 2] = np.arange(S * S).reshape(S, S)
    out = T.model_inputs(x)
    assert out.shape == (2, 3, S, S) and out.dtype == np.float32
    assert out[0, 0].min() == 0 and out[0, 0].max() == 1
    assert not out[0, 1].any() and not out[1, 0].any()
    assert out[1, 2].max() == 1


def test_training_samples_downsample_negatives_and_augment_me() -> None:
    rng = np.random.default_rng(0)
    items = [(np.zeros((50, S, S, 3), np.float32), np.r_[np.ones(10), np.zeros(40)].astype(np.float32)),
             (np.zeros((30, S, S, 3), np.float32), np.zeros(30, np.float32))]
    mae = T.training_samples(items, "MaE", rng)
    # 10 positives; 70 negatives downsampled to 70 // 2 = 35.
    assert (mae[:, 2] == T.PLAIN).all() and len(mae) == 45
    labels = np.array([items[i][1][r] for i, r, _ in mae])
    assert labels.sum() == 10
    assert len({(i, r) for i, r, _ in mae}) == 45  # no negative drawn twice
    me = T.training_samples(items, "ME", np.random.default_rng(0))
    assert len(me) == 10 * 4 + 35
    assert sorted(np.unique(me[:, 2], return_counts=True)[1].tolist()) == [10, 10, 10, 45]
    with pytest.raises(ValueError, match="kind must be"):
        T.training_samples(items, "me", rng)


def test_same_seed_same_scores_and_another_seed_differs() -> None:
    rng = np.random.default_rng(1)
    items = [synthetic_video(rng, 40, (10, 20)), synthetic_video(rng, 30, (5, 9))]
    test = synthetic_video(rng, 25, (3, 8))[0]
    threads = torch.get_num_threads()
    runs = [T.predict_scores(T.fit_fold(items, "ME", epochs=2, seed=s), test) for s in (3, 3, 4)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
    assert not torch.are_deterministic_algorithms_enabled()  # restored after the fit
    assert torch.get_num_threads() == threads


def test_learns_to_separate_a_tiny_problem() -> None:
    rng = np.random.default_rng(2)
    items = [synthetic_video(rng, 60, (20, 35)), synthetic_video(rng, 60, (30, 44)), synthetic_video(rng, 60, (5, 18))]
    feats, labels = synthetic_video(rng, 80, (40, 55))
    model = T.fit_fold(items, "MaE", epochs=6, seed=0, lr=0.01)
    scores = T.predict_scores(model, feats)
    inside, outside = scores[labels > 0], scores[labels == 0]
    assert inside.mean() > outside.mean() + 0.4
    assert inside.min() > outside.max()
    # End to end with k = 8 (about half the 16-pair span, as the MEGC k): pair i → frame i + k // 2, so the true
    # pairs 40..55 centre on frames 45..60 (1-based).
    k = 8
    frames = np.arange(1, len(feats) + k + 1)  # 1-based source numbers
    spotted = T.spot_video(model, feats, k, frames)
    assert len(spotted) == 1 and spotted[0][0] <= 45 and spotted[0][1] >= 60


def test_bad_items_and_device() -> None:
    feats = np.zeros((5, S, S, 3), np.float32)
    with pytest.raises(ValueError, match="no training videos"):
        T.fit_fold([], "MaE")
    with pytest.raises(ValueError, match="training item 0: .* labels for 5 features"):
        T.fit_fold([(feats, np.zeros(4, np.float32))], "MaE")
    with pytest.raises(ValueError, match="no positive MaE pair"):
        T.fit_fold([(feats, np.zeros(5, np.float32))], "MaE")
    with pytest.raises(ValueError, match="device must be"):
        T.resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            T.resolve_device("cuda")
    assert T.resolve_device("auto").type in ("cpu", "cuda")
