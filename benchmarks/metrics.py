"""Benchmark the quality metrics: the paper's AU tables over generated tracks (147 videos × 7,000 frames × 17 AUs,
goal ≤ 10 s) against a plain SciPy loop on the same data, and milliseconds per Farneback pair at 256×256.

    python benchmarks/metrics.py [--quick]

Numbers depend on the machine and its load; ratios measured side by side in one run are what to compare.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd


def make_tracks(n_videos: int, n_frames: int, seed: int = 0) -> tuple[dict, pd.DataFrame]:
    from samm_synth_dataset import format as fmt

    rng = np.random.default_rng(seed)
    aus = list(fmt.AU_INTENSITY_COLUMNS)
    tracks, rows = {}, []
    for v in range(n_videos):
        base = np.clip(np.cumsum(rng.normal(0, 0.05, (n_frames, len(aus))), axis=0) + 1, 0, 5).astype(np.float32)
        synth = np.clip(0.8 * base + rng.normal(0, 0.2, base.shape), 0, 5).astype(np.float32)
        base[:, -1] = 0  # one inactive AU per video: undefined correlation
        idx = pd.Index(np.arange(1, n_frames + 1), name="frame")
        o = pd.DataFrame(base, index=idx, columns=aus)
        s = pd.DataFrame(synth, index=idx, columns=aus)
        o["success"] = 1
        s["success"] = (rng.random(n_frames) > 0.01).astype(int)
        video = f"{v // 5:03d}_{v % 5}-ref01"
        tracks[video] = (o, s)
        rows.append({"video": video, "subject": f"{v // 5:03d}", "glasses": bool(v % 3 == 0)})
    return tracks, pd.DataFrame(rows)


def scipy_loop(tracks: dict) -> pd.DataFrame:
    """The straightforward way: per video and AU, scipy.stats.pearsonr / spearmanr on the kept frames."""
    from scipy import stats

    out = []
    for video, (o, s) in tracks.items():
        keep = (o["success"] == 1) & (s["success"] == 1)
        for au in o.columns.drop("success"):
            x, y = o.loc[keep, au].to_numpy(float), s.loc[keep, au].to_numpy(float)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append((video, au, stats.pearsonr(x, y).statistic, stats.spearmanr(x, y).statistic))
    return pd.DataFrame(out, columns=["video", "au", "pearson", "spearman"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="20 videos × 2,000 frames and fewer flow pairs")
    args = ap.parse_args()
    n_videos, n_frames, n_pairs = (20, 2000, 10) if args.quick else (147, 7000, 50)

    from samm_synth_dataset.metrics import au as A
    from samm_synth_dataset.metrics import flow as F

    t = time.perf_counter()
    tracks, videos = make_tracks(n_videos, n_frames)
    print(f"generated {n_videos} videos × {n_frames} frames × 17 AUs in {time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    corr = A.correlate_videos(tracks)
    t1 = A.table_per_au(corr)
    t2, summary = A.table_per_participant(corr, videos)
    A.by_glasses(corr, videos)
    ours = time.perf_counter() - t
    t = time.perf_counter()
    corr_s = A.correlate_videos(tracks, window=31)
    smooth = time.perf_counter() - t
    t = time.perf_counter()
    ref = scipy_loop(tracks)
    loop = time.perf_counter() - t
    m = corr.merge(ref, on=["video", "au"], suffixes=("", "_scipy")).dropna(subset=["pearson"])
    agree = float(np.max(np.abs(m["pearson"] - m["pearson_scipy"])))
    print(f"AU tables (correlate_video over all videos, Table 1, Table 2, glasses): {ours:.2f} s "
          f"(goal ≤ 10 s) {'OK' if ours <= 10 else 'SLOWER THAN GOAL'}")
    print(f"  with Savitzky–Golay window 31: {smooth:.2f} s")
    print(f"  plain scipy.stats loop on the same data: {loop:.2f} s  (ratio scipy/ours {loop / ours:.2f}×; "
          f"max |Δr| {agree:.1e})")
    print(f"  Table 1 mean Pearson {t1['pearson'].mean():.3f}; Table 2 {summary['pearson_mean']:.3f} ± "
          f"{summary['pearson_sd']:.3f} over {summary['participants']} participants")

    rng = np.random.default_rng(0)
    import cv2

    a = cv2.GaussianBlur(rng.integers(0, 255, (256, 256), dtype=np.uint8), (0, 0), 2)
    b = np.roll(a, 1, axis=1)
    F.farneback(a, b)
    t = time.perf_counter()
    for _ in range(n_pairs):
        F.farneback(a, b)
    per = (time.perf_counter() - t) / n_pairs * 1000
    t = time.perf_counter()
    for _ in range(n_pairs):
        f = F.farneback(a, b)
        F.compare_flows(f, f, __import__("samm_synth_dataset.metrics.regions", fromlist=["x"]).region_masks(256))
    per_cmp = (time.perf_counter() - t) / n_pairs * 1000
    print(f"Farneback pair at 256×256: {per:.1f} ms (cv2 threads {cv2.getNumThreads()}); with compare_flows over "
          f"6 regions: {per_cmp:.1f} ms")


if __name__ == "__main__":
    main()
