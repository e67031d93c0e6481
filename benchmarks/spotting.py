"""Benchmark the SOFTNet spotting baseline: frames/s of feature extraction (Farneback flow at 128 px, 42×42×3
inputs) on synthetic 256×256 face frames, training samples/s and seconds per epoch (batch 12, one torch thread),
prediction pairs/s, and the share of a run spent in each stage; then a projection to SAMM-LV scale.

    python benchmarks/spotting.py [--quick]

Numbers depend on the machine and its load (the CPUs may be shared); shares and ratios measured in one run are what
to compare.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np


def synthetic_frames(n: int, size: int = 256, seed: int = 0) -> list[np.ndarray]:
    """A textured face-sized image whose lower third slides 1 px per frame for 32 frames from frame n // 3."""
    rng = np.random.default_rng(seed)
    tex = cv2.GaussianBlur(rng.integers(0, 256, (size + 64, size + 64), dtype=np.uint8), (0, 0), 2)
    frames = []
    for t in range(n):
        shift = int(np.clip(t - n // 3, 0, 32))
        f = tex[:size, :size].copy()
        f[2 * size // 3:, :] = tex[2 * size // 3:size, shift:shift + size]
        frames.append(cv2.cvtColor(f, cv2.COLOR_GRAY2RGB))
    return frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer frames and samples")
    ap.add_argument("--frames-per-protocol", type=float, default=1e6, help="frames to project to (default 1 M)")
    ap.add_argument("--folds", type=int, default=32, help="LOSO folds of the projection (SAMM-LV: 32 subjects)")
    args = ap.parse_args()
    n_frames, n_samples, epochs = (150, 600, 1) if args.quick else (600, 3000, 2)
    k = 6

    from samm_synth_dataset.metrics import flow as F
    from samm_synth_dataset.spotting import decode as D
    from samm_synth_dataset.spotting import features as FT
    from samm_synth_dataset.spotting import train as T

    frames = synthetic_frames(n_frames)
    params = FT.FeatureParams()
    t = time.perf_counter()
    feats = FT.flow_features(frames, k, params)
    t_feat = time.perf_counter() - t
    fps = n_frames / t_feat
    greys = [F.to_grey(f, (params.flow_size, params.flow_size)) for f in frames[:50]]
    t = time.perf_counter()
    for a, b in zip(greys, greys[k:]):
        F.farneback(a, b)
    ms_flow = (time.perf_counter() - t) / (len(greys) - k) * 1000
    print(f"features: {n_frames} frames 256×256 → {feats.shape[0]} pairs {feats.shape[1:]} in {t_feat:.2f} s = "
          f"{fps:.0f} frames/s ({1000 / fps:.1f} ms/frame, of which Farneback at {params.flow_size} px "
          f"{ms_flow:.1f} ms; cv2 threads {cv2.getNumThreads()})")

    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (n_samples, params.input_size, params.input_size, 3)).astype(np.float32)
    y = (rng.random(n_samples) < 0.3).astype(np.float32)
    items = [(x, y)]
    kept = len(T.training_samples(items, "MaE", np.random.default_rng(0)))
    T.fit_fold([(x[:60], y[:60])], "MaE", epochs=1, seed=0)  # warm-up (first-call allocations)
    t = time.perf_counter()
    T.fit_fold(items, "MaE", epochs=epochs, seed=0)
    t_train = (time.perf_counter() - t) / epochs
    sps = kept / t_train
    t = time.perf_counter()
    model = T.fit_fold(items, "ME", epochs=1, seed=0)
    t_me = time.perf_counter() - t
    kept_me = len(T.training_samples(items, "ME", np.random.default_rng(0)))
    print(f"training (one torch thread, batch {T.BATCH_SIZE}): MaE {kept} of {n_samples} pairs kept, "
          f"{t_train:.2f} s/epoch = {sps:.0f} samples/s; ME with 3× augmented positives {kept_me} samples, "
          f"{t_me:.2f} s/epoch = {kept_me / t_me:.0f} samples/s")

    t = time.perf_counter()
    scores = T.predict_scores(model, x)
    t_pred = time.perf_counter() - t
    t = time.perf_counter()
    D.spot_intervals(D.frame_scores(scores, k), k, np.arange(len(scores) + k))
    t_dec = time.perf_counter() - t
    print(f"prediction: {n_samples / t_pred:.0f} pairs/s; decoding {n_samples + k} frames: {t_dec * 1000:.1f} ms")

    # One run over these frames: features once, training 10 epochs on them (MaE-like sample share), prediction.
    share_kept = kept / n_samples
    per_frame = {"features": 1 / fps, "training (10 epochs)": 10 * share_kept / sps,
                 "prediction": 1 / (n_samples / t_pred), "decoding": t_dec / n_samples}
    total = sum(per_frame.values())
    print("share of a run per frame (features once, 10 epochs at the MaE sample share, predict, decode): "
          + ", ".join(f"{name} {100 * v / total:.1f} %" for name, v in per_frame.items()))

    n = args.frames_per_protocol
    folds = args.folds
    feat_h = n / fps / 3600
    # Each fold trains on (folds - 1) / folds of the frames, for ME and MaE (10 epochs each) and predicts the rest.
    train_h = folds * 2 * 10 * n * (folds - 1) / folds * share_kept / sps / 3600
    pred_h = 2 * n / (n_samples / t_pred) / 3600
    print(f"projection at {n:.0f} frames per protocol, {folds} LOSO folds, ME + MaE, 10 epochs, "
          f"{100 * share_kept:.0f} % of pairs kept: features {feat_h:.1f} h per pass (cached per video and k: "
          f"one pass per distinct fold k of each kind, shared by the protocols and by folds of equal k), training {train_h:.1f} h per protocol, prediction {pred_h:.2f} h per protocol; training "
          f"dominates: {train_h / (feat_h + train_h + pred_h) * 100:.0f} % (one process, one thread for torch)")


if __name__ == "__main__":
    main()
