"""AU-track agreement between original and synthetic videos: the paper's Table 1, Table 2 and Figures 3-5.

Plain DataFrames in and out. A *track* is a DataFrame indexed by SOURCE frame number with the OpenFace columns
``AU01_r`` ... ``AU45_r`` and ``success`` (as ``openface.read_openface_csv`` or ``openface.split_tracks`` give).
Correlations are over frames; a constant (or near-constant) track has no correlation: it is NaN ("undefined"),
never 0. Averages of correlations use Fisher's z (``fisher_mean``).
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.signal import savgol_filter
from scipy.stats import rankdata

from samm_synth_dataset import format as fmt
from samm_synth_dataset.metrics.document import subplots

#: OpenFace 2.0's per-AU Pearson r on DISFA (Baltrušaitis et al., FG 2018), the paper's "Benchmark" column.
DISFA_BENCHMARK: dict[str, float] = {
    "AU01_r": 0.64, "AU02_r": 0.50, "AU04_r": 0.70, "AU05_r": 0.67, "AU06_r": 0.59, "AU09_r": 0.54,
    "AU12_r": 0.85, "AU15_r": 0.39, "AU17_r": 0.49, "AU20_r": 0.22, "AU25_r": 0.85, "AU26_r": 0.67,
}
R_CLIP = 1.0 - 1e-7


def _is_constant(x: np.ndarray) -> bool:
    """True when ``x`` has no variation (exactly, or up to float noise relative to its scale)."""
    if x.size < 2:
        return True
    ptp = float(np.ptp(x))
    return ptp == 0.0 or ptp <= 1e-12 * max(1.0, float(np.max(np.abs(x))))


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    xm = x - x.mean()
    ym = y - y.mean()
    den = math.sqrt(float(xm @ xm) * float(ym @ ym))
    if den == 0.0:
        return float("nan")
    return float(np.clip(float(xm @ ym) / den, -1.0, 1.0))


def _smooth(x: np.ndarray, window: int | None, polyorder: int) -> np.ndarray:
    """Savitzky–Golay along axis 0 with ``mode="interp"``; a window longer than the series shrinks to the
    largest odd length that fits (no smoothing when that is <= polyorder)."""
    if window is None or window <= 1:
        return x
    w = min(int(window), x.shape[0])
    if w < int(window) and w % 2 == 0:
        w -= 1
    if w <= polyorder:
        return x
    return savgol_filter(x, w, polyorder, mode="interp", axis=0)


def correlate_video(original: pd.DataFrame, synthetic: pd.DataFrame, window: int | None = None,
                    polyorder: int = 2, columns: Sequence[str] = fmt.AU_INTENSITY_COLUMNS) -> pd.DataFrame:
    """Per-AU Pearson and Spearman correlation between two tracks of one video.

    Frames are joined on the index (source frame number). Frames missing from either track, with
    ``success == 0`` in either, or with a NaN value of that AU in either are dropped. When ``window`` is given,
    each remaining series is smoothed with ``savgol_filter(x, window, polyorder, mode="interp")`` (window
    shrunk to fit short series). No clipping. A constant track (either side) gives NaN. Returns a DataFrame
    indexed by AU name (``AU01_r`` ...) with columns ``pearson``, ``spearman`` (float) and ``n`` (frames used).
    """
    for name, t in (("original", original), ("synthetic", synthetic)):
        if "success" not in t:
            raise ValueError(f"{name} track has no 'success' column")
        if not t.index.is_unique:
            raise ValueError(f"{name} track has repeated frame numbers; one row per frame is expected")
    common = original.index.intersection(synthetic.index).sort_values()
    o = original.reindex(common)
    s = synthetic.reindex(common)
    ok = (o["success"].to_numpy() == 1) & (s["success"].to_numpy() == 1)
    present = [au for au in columns if au in original and au in synthetic]
    result: dict[str, tuple[float, float, int]] = {au: (float("nan"), float("nan"), 0) for au in columns}
    if present:
        X = o[present].to_numpy(dtype=np.float64)
        Y = s[present].to_numpy(dtype=np.float64)
        keep = ok[:, None] & np.isfinite(X) & np.isfinite(Y)
        # AUs with the same kept frames (the usual case: all of them) are smoothed and ranked together
        groups: dict[bytes, list[int]] = {}
        for j in range(len(present)):
            groups.setdefault(np.packbits(keep[:, j]).tobytes(), []).append(j)
        for cols in groups.values():
            m = keep[:, cols[0]]
            x, y = X[m][:, cols], Y[m][:, cols]
            n = int(m.sum())
            defined = [k for k in range(len(cols)) if n >= 2 and not _is_constant(x[:, k])
                       and not _is_constant(y[:, k])]
            for k in range(len(cols)):
                result[present[cols[k]]] = (float("nan"), float("nan"), n)
            if not defined:
                continue
            xs = _smooth(x[:, defined], window, polyorder)
            ys = _smooth(y[:, defined], window, polyorder)
            rx, ry = rankdata(xs, axis=0), rankdata(ys, axis=0)
            for i, k in enumerate(defined):
                if _is_constant(xs[:, i]) or _is_constant(ys[:, i]):
                    continue
                result[present[cols[k]]] = (_pearson(xs[:, i], ys[:, i]), _pearson(rx[:, i], ry[:, i]), n)
    rows = [(au, *result[au]) for au in columns]
    out = pd.DataFrame(rows, columns=["au", "pearson", "spearman", "n"]).set_index("au")
    out["n"] = out["n"].astype(np.int64)
    return out


def fisher_mean(r: Iterable[float] | np.ndarray, n: Iterable[float] | np.ndarray | None = None) -> float:
    """Average correlations through Fisher's z.

    NaNs are dropped; r is clipped to ±(1 − 1e-7); z = arctanh(r); the mean of z is taken (weighted by n − 3
    when ``n`` is given, where pairs with n <= 3 are dropped); tanh brings it back. NaN when nothing is left.
    """
    r = np.asarray(list(r) if not isinstance(r, np.ndarray) else r, dtype=np.float64).ravel()
    if n is None:
        keep = np.isfinite(r)
        w = np.ones(int(keep.sum()))
    else:
        nn = np.asarray(list(n) if not isinstance(n, np.ndarray) else n, dtype=np.float64).ravel()
        if nn.shape != r.shape:
            raise ValueError(f"fisher_mean: r has {r.size} values but n has {nn.size}")
        keep = np.isfinite(r) & np.isfinite(nn) & (nn > 3)
        w = nn[keep] - 3.0
    if not keep.any():
        return float("nan")
    z = np.arctanh(np.clip(r[keep], -R_CLIP, R_CLIP))
    return float(np.tanh(np.sum(w * z) / np.sum(w)))


# --------------------------------------------------------------------------------------------------------------
# Over videos


def correlate_videos(tracks: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]], window: int | None = None,
                     polyorder: int = 2) -> pd.DataFrame:
    """``correlate_video`` for each ``video -> (original, synthetic)``; long DataFrame with columns
    ``video, au, pearson, spearman, n``."""
    parts = []
    for video, (o, s) in tracks.items():
        c = correlate_video(o, s, window=window, polyorder=polyorder).reset_index()
        c.insert(0, "video", video)
        parts.append(c)
    if not parts:
        return pd.DataFrame({"video": pd.Series(dtype=str), "au": pd.Series(dtype=str),
                             "pearson": pd.Series(dtype=float), "spearman": pd.Series(dtype=float),
                             "n": pd.Series(dtype=np.int64)})
    return pd.concat(parts, ignore_index=True)


def table_per_au(corr: pd.DataFrame) -> pd.DataFrame:
    """Table 1: per AU, the Fisher-z mean (weights n − 3) over videos of Pearson and Spearman r.

    Columns: ``pearson``, ``spearman``, ``videos`` (videos with a defined r), ``undefined`` (videos where the AU
    was constant), ``benchmark`` (OpenFace 2.0 on DISFA, NaN where not reported). Index: AU name.
    """
    rows = []
    for au, g in corr.groupby("au", sort=False):
        rows.append({
            "au": au,
            "pearson": fisher_mean(g["pearson"].to_numpy(), g["n"].to_numpy()),
            "spearman": fisher_mean(g["spearman"].to_numpy(), g["n"].to_numpy()),
            "videos": int(g["pearson"].notna().sum()),
            "undefined": int(g["pearson"].isna().sum()),
            "benchmark": DISFA_BENCHMARK.get(str(au), float("nan")),
        })
    order = {a: i for i, a in enumerate(fmt.AU_INTENSITY_COLUMNS)}
    out = pd.DataFrame(rows, columns=["au", "pearson", "spearman", "videos", "undefined", "benchmark"])
    return out.sort_values("au", key=lambda s: s.map(lambda a: order.get(a, 999))).set_index("au")


def table_per_participant(corr: pd.DataFrame, videos: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """Table 2: per participant (subject), the Fisher-z mean (weights n − 3) over all its AUs and videos.

    ``videos`` is the release's videos table (``video`` → ``subject``). Returns the table (index ``subject``;
    columns ``pearson``, ``spearman``, ``videos``, ``pairs``) and the summary over participants: plain ``mean``
    and sample ``sd`` (ddof=1) of the per-participant values, for Pearson and Spearman.
    """
    subj = videos.set_index("video")["subject"]
    missing = sorted(set(corr["video"]) - set(subj.index))
    if missing:
        raise ValueError(f"videos {missing[:5]}{' …' if len(missing) > 5 else ''} ({len(missing)} in all) have AU "
                         "correlations but are not in the videos table: their data/aus/<video>.parquet files are "
                         "stale or from another build; delete them (or re-run `samm-synth aus`), or drop these "
                         "videos from `corr` before calling table_per_participant")
    c = corr.assign(subject=corr["video"].map(subj))
    rows = []
    for s, g in c.groupby("subject", sort=True):
        rows.append({"subject": s,
                     "pearson": fisher_mean(g["pearson"].to_numpy(), g["n"].to_numpy()),
                     "spearman": fisher_mean(g["spearman"].to_numpy(), g["n"].to_numpy()),
                     "videos": int(g["video"].nunique()),
                     "pairs": int(g["pearson"].notna().sum())})
    table = pd.DataFrame(rows, columns=["subject", "pearson", "spearman", "videos", "pairs"]).set_index("subject")
    summary = {}
    for col in ("pearson", "spearman"):
        v = table[col].dropna().to_numpy()
        summary[f"{col}_mean"] = float(v.mean()) if v.size else float("nan")
        summary[f"{col}_sd"] = float(v.std(ddof=1)) if v.size > 1 else float("nan")
    summary["participants"] = int(len(table))
    return table, summary


def by_glasses(corr: pd.DataFrame, videos: pd.DataFrame) -> pd.DataFrame:
    """Per-(video, AU) correlations with a ``glasses`` column (True / False / NaN = unknown) from the videos
    table, plus the Fisher-z mean per group in ``DataFrame.attrs["summary"]`` (``{"with": r, "without": r}``)."""
    g = videos.set_index("video")["glasses"]
    out = corr.assign(glasses=corr["video"].map(g))
    summary = {}
    for label, val in (("with", True), ("without", False)):
        sel = out[out["glasses"] == val]
        summary[label] = {"pearson": fisher_mean(sel["pearson"].to_numpy(), sel["n"].to_numpy()),
                          "videos": int(sel["video"].nunique())}
    out.attrs["summary"] = summary
    return out


def standardise_to_first(x: pd.Series) -> pd.Series:
    """A track "standardised to the first frame": ``(x − x[first valid frame]) / std(x)``.

    The first valid frame is the first non-NaN value; std is the population std (ddof=0) of the non-NaN values.
    A constant track (std 0) is only shifted. So every curve starts at 0 and its unit is its own std, which
    makes original and synthetic curves of different offsets and gains comparable by shape.
    """
    v = x.dropna()
    if v.empty:
        return x.astype(float)
    sd = float(v.std(ddof=0))
    out = x.astype(float) - float(v.iloc[0])
    return out / sd if sd > 0 else out


# --------------------------------------------------------------------------------------------------------------
# Figures (each returns a Figure the caller saves)



def plot_au_curves(original: pd.DataFrame, synthetic: pd.DataFrame, aus: Sequence[str], title: str = "",
                   intervals: Sequence[tuple[int, int, str]] = ()) -> Figure:
    """Fig 3: AU curves, original vs synthetic, each standardised to its first frame; interval spans shaded
    (``(onset, offset, kind)``, source frame numbers). Frames with success == 0 are blanked."""
    aus = list(aus)
    fig, axes = subplots(len(aus), 1, figsize=(9, 1.6 * len(aus) + 0.6), sharex=True, squeeze=False)
    for ax, au in zip(axes[:, 0], aus):
        for t, name, colour in ((original, "original", "tab:blue"), (synthetic, "synthetic", "tab:orange")):
            s = t[au].where(t["success"] == 1)
            ax.plot(s.index, standardise_to_first(s), lw=0.8, color=colour, label=name)
        for on, off, kind in intervals:
            ax.axvspan(on, off, color="tab:red" if kind == "ME" else "tab:green", alpha=0.12, lw=0)
        ax.set_ylabel(au.replace("_r", ""), rotation=0, ha="right", va="center")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="upper right", fontsize=8, ncol=2)
    axes[-1, 0].set_xlabel("source frame")
    fig.suptitle(title or "AU intensity, standardised to the first frame (red: ME, green: MaE)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_histograms(corr: pd.DataFrame) -> Figure:
    """Fig 4: histograms of per-(video, AU) Pearson and Spearman r (undefined ones counted in the title)."""
    fig, axes = subplots(1, 2, figsize=(9, 3.2), sharey=True)
    bins = np.linspace(-1, 1, 41)
    for ax, col in zip(axes, ("pearson", "spearman")):
        v = corr[col].dropna()
        ax.hist(v, bins=bins, color="tab:blue", alpha=0.8)
        ax.axvline(fisher_mean(corr[col].to_numpy(), corr["n"].to_numpy()), color="k", ls="--", lw=1,
                   label="Fisher-z mean")
        ax.set_title(f"{col.title()} r ({len(v)} defined, {int(corr[col].isna().sum())} undefined)", fontsize=9)
        ax.set_xlabel("r (original vs synthetic)")
    axes[0].set_ylabel("video × AU pairs")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_glasses(corr_glasses: pd.DataFrame) -> Figure:
    """Fig 5: Pearson r per (video, AU), with vs without glasses (box plot with the points)."""
    fig, ax = subplots(figsize=(5, 3.2))
    groups, labels = [], []
    for label, val in (("with glasses", True), ("without glasses", False)):
        v = corr_glasses.loc[corr_glasses["glasses"] == val, "pearson"].dropna().to_numpy()
        groups.append(v)
        labels.append(f"{label}\n({corr_glasses.loc[corr_glasses['glasses'] == val, 'video'].nunique()} videos)")
    ax.boxplot([g if g.size else np.array([np.nan]) for g in groups], showfliers=False)
    ax.set_xticks([1, 2], labels)
    rng = np.random.default_rng(0)
    for i, g in enumerate(groups, start=1):
        ax.scatter(i + rng.uniform(-0.12, 0.12, g.size), g, s=6, alpha=0.5)
    ax.set_ylabel("Pearson r")
    ax.set_ylim(-1.05, 1.05)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
