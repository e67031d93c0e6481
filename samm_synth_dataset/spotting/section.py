"""The spotting-utility section of the quality report, read from ``quality/spotting.json`` (written by
``samm-synth spotting-benchmark``; the report never runs the baseline): the verdicts with their intervals, the
pooled, per-seed and per-fold tables, each protocol's F1 with its interval (Figure 11), score timelines of a few
test videos (Figure 12), the card's headline table and claim sentence — all written from the verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from samm_synth_dataset import format as fmt
from samm_synth_dataset.metrics.document import save_figure, subplots
from samm_synth_dataset.spotting.results import SCORE_KINDS, pooled

#: Colours of the kinds in the figures (ME red, MaE green, as Figure 3).
KIND_COLOURS: dict[str, str] = {"ME": "tab:red", "MaE": "tab:green"}
PROTOCOL_COLOURS: dict[str, str] = {"real": "tab:blue", "synthetic": "tab:orange", "real+synthetic": "tab:purple"}


def read_spotting(release: str | Path) -> dict[str, Any] | None:
    """``quality/spotting.json`` of the release, or None when the benchmark has not run. A file that is not
    valid JSON of the expected shape raises ValueError naming it."""
    path = Path(release) / fmt.SPOTTING_JSON
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text())
        doc["pooled"], doc["folds"], doc["protocols"], doc["bootstrap"], doc["seeds"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a spotting benchmark result of this version ({exc}); re-run `samm-synth "
                         "spotting-benchmark`") from exc
    return doc


def pooled_table(doc: dict[str, Any]) -> pd.DataFrame:
    """One row per protocol and kind, all seeds pooled: TP, FP, FN, precision, recall, F1, its bootstrap interval
    over held-out subjects, the mean ± sd of F1 over seeds, and the training intervals seen (summed over folds)."""
    rows = []
    first = str(doc["seeds"][0])
    for protocol in doc["protocols"]:
        seen = {kind: sum(f["protocols"][protocol]["seeds"][first]["kinds"][kind]["n_train_intervals"]
                          for f in doc["folds"]) for kind in fmt.KINDS}
        for kind in SCORE_KINDS:
            s, e = doc["pooled"][protocol][kind], doc["bootstrap"]["f1"][kind][protocol]
            sp = doc["spread"][protocol][kind]
            rows.append({"protocol": protocol, "kind": kind, "TP": s["tp"], "FP": s["fp"], "FN": s["fn"],
                         "precision": s["precision"], "recall": s["recall"], "F1": s["f1"],
                         "F1_low": e["low"], "F1_high": e["high"], "F1_seed_mean": sp["mean"],
                         "F1_seed_sd": sp["sd"],
                         "train_intervals": seen[kind] if kind in seen else sum(seen.values())})
    return pd.DataFrame(rows)


def verdict_table(doc: dict[str, Any]) -> pd.DataFrame:
    """One row per kind and difference from the baseline: the point difference, its interval and the verdict."""
    boot = doc["bootstrap"]
    return pd.DataFrame([{"kind": kind, "difference": name, "value": d["value"], "low": d["low"], "high": d["high"],
                          "verdict": boot["verdicts"][kind][name]}
                         for kind in SCORE_KINDS for name, d in boot["differences"][kind].items()])


def seed_table(doc: dict[str, Any]) -> pd.DataFrame:
    """One row per protocol and seed: ME, MaE and overall F1 pooled over folds (with TP)."""
    return pd.DataFrame([{"protocol": p, "seed": int(seed),
                          **{f"F1_{k}": doc["per_seed"][p][seed][k]["f1"] for k in SCORE_KINDS},
                          "TP_overall": doc["per_seed"][p][seed]["overall"]["tp"]}
                         for p in doc["protocols"] for seed in doc["per_seed"][p]])


def fold_table(doc: dict[str, Any]) -> pd.DataFrame:
    """One row per fold and protocol: k per kind and F1 per kind over that fold's runs (all seeds pooled)."""
    rows = []
    for f in doc["folds"]:
        for protocol, r in f["protocols"].items():
            s = pooled([run["scores"] for run in r["seeds"].values()])
            rows.append({"test_subject": f["test_subject"], "protocol": protocol, "k_ME": f["k"].get("ME"),
                         "k_MaE": f["k"].get("MaE"), "F1_ME": s["ME"]["f1"], "F1_MaE": s["MaE"]["f1"],
                         "F1_overall": s["overall"]["f1"], "TP_overall": s["overall"]["tp"]})
    return pd.DataFrame(rows)


def _interval(e: dict[str, Any], signed: bool = False) -> str:
    f = "{:+.3f}" if signed else "{:.3f}"
    value = "–" if e["value"] is None else f.format(e["value"])
    return value + ("" if e["low"] is None else f" [{f.format(e['low'])}, {f.format(e['high'])}]")


def evidence(doc: dict[str, Any]) -> str:
    """What the numbers rest on: held-out subjects, test intervals per kind, seeds, resamples, level."""
    n = doc["n_intervals"]
    boot = doc["bootstrap"]
    seeds = doc["seeds"]
    return (f"{doc['n_subjects']} held-out subjects, {n['overall']} test intervals ({n['ME']} ME, {n['MaE']} MaE), "
            f"seeds {seeds[0]}–{seeds[-1]} ({len(seeds)} runs per protocol and fold), {boot['level']:.0%} intervals "
            f"from a paired bootstrap over held-out subjects ({boot['resamples']} resamples)")


def claim(doc: dict[str, Any]) -> str:
    """The card's sentence, written from the verdicts: each protocol's overall F1 with its interval, each
    difference from the baseline with its interval and verdict, and what they rest on. Never a ranking from point
    estimates alone."""
    boot = doc["bootstrap"]
    f1 = "; ".join(f"{p} {_interval(boot['f1']['overall'][p])}" for p in doc["protocols"])
    text = (f"Spotting utility: a SOFTNet-style baseline trained per protocol and tested on the REAL videos of each "
            f"held-out subject reaches a pooled MEGC overall F1 (IoU >= 0.5) of {f1}")
    diffs = boot["differences"]["overall"]
    if diffs:
        parts = [f"{name} {_interval(d, signed=True)}: {boot['verdicts']['overall'][name]}" for name, d in diffs.items()]
        text += "; differences " + "; ".join(parts)
    text += f" ({evidence(doc)}; test videos: {doc['test_videos']})."
    verdicts = [v for kind in SCORE_KINDS for v in boot["verdicts"][kind].values()]
    minimum = boot.get("min_subjects", 0)
    if verdicts and doc["n_subjects"] < minimum:
        text += (f" A verdict needs at least {minimum} held-out subjects and this run has {doc['n_subjects']}, so "
                 "every difference is inconclusive: these numbers do not show that the synthetic videos help or "
                 "hurt.")
    elif verdicts and all(v == "inconclusive" for v in verdicts):
        text += (" Every interval of a difference includes 0, so these numbers do not show that the synthetic "
                 "videos help or hurt.")
    return text


def support(doc: dict[str, Any]) -> str:
    """Plain words on what the numbers can and cannot support (the report says it next to the tables)."""
    n = doc["n_subjects"]
    text = (f"These numbers rest on {evidence(doc)}. The bootstrap resamples people, not intervals, because "
            "intervals of one person are not independent; a verdict is \"helps\" or \"hurts\" only when the whole "
            "interval of the difference is on one side of 0.")
    minimum = doc["bootstrap"].get("min_subjects", 5)
    if n < minimum:
        text += (f" With {n} held-out subjects a resample can only mix {n} people, so even a narrow interval says "
                 f"nothing about other people: below {minimum} subjects every verdict is \"inconclusive\". Treat "
                 "any difference here as a smoke test of the pipeline, not as evidence about synthetic data. A real "
                 "answer needs the full corpus (e.g. SAMM-LV's 32 subjects).")
    return text


def plot_protocol_f1(doc: dict[str, Any]) -> Any:
    """Figure 11: each protocol's pooled F1 per kind with its bootstrap interval (error bars) and the TP count
    above each bar."""
    protocols = doc["protocols"]
    width = 0.8 / len(protocols)
    fig, ax = subplots(figsize=(max(4.5, 1.6 * len(SCORE_KINDS) + 2), 3.2))
    x = np.arange(len(SCORE_KINDS))
    for i, p in enumerate(protocols):
        xs = x + (i - (len(protocols) - 1) / 2) * width
        est = [doc["bootstrap"]["f1"][k][p] for k in SCORE_KINDS]
        values = [e["value"] or 0.0 for e in est]
        err = np.array([[max(0.0, (e["value"] or 0.0) - e["low"]) if e["low"] is not None else 0.0 for e in est],
                        [max(0.0, e["high"] - (e["value"] or 0.0)) if e["high"] is not None else 0.0 for e in est]])
        ax.bar(xs, values, width, yerr=err, capsize=3, label=p, color=PROTOCOL_COLOURS.get(p), error_kw={"lw": 1})
        for xi, kind, v, hi in zip(xs, SCORE_KINDS, values, err[1]):
            ax.text(xi, min(1.02, v + hi + 0.02), f"TP {doc['pooled'][p][kind]['tp']}", ha="center", va="bottom",
                    fontsize=6)
    ax.set_xticks(x, list(SCORE_KINDS), fontsize=8)
    ax.set_ylabel("pooled F1 (all seeds)")
    ax.set_ylim(0, 1.15)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7, ncol=len(protocols), loc="upper left")
    ax.set_title(f"{doc['bootstrap']['level']:.0%} intervals over {doc['n_subjects']} held-out subjects", fontsize=8)
    fig.tight_layout()
    return fig


def lanes(intervals: list[tuple[int, int]]) -> list[int]:
    """A lane (0, 1, ...) for each ``(onset, offset)`` interval (inclusive ends) so that no two intervals of one
    lane overlap: each takes the lowest free lane, in onset order (the greedy interval-graph colouring)."""
    ends: list[int] = []                      # last offset of each lane
    out = [0] * len(intervals)
    for i in sorted(range(len(intervals)), key=lambda j: (intervals[j][0], intervals[j][1])):
        onset, offset = intervals[i]
        lane = next((n for n, end in enumerate(ends) if end < onset), len(ends))
        if lane == len(ends):
            ends.append(offset)
        else:
            ends[lane] = offset
        out[i] = lane
    return out


def peak_of(onset: int, offset: int, first: float, k: int | None) -> float:
    """The peak a predicted interval came from: its window is ``[c − k, c + k]`` clipped to the video, so ``c`` is
    the middle of an unclipped window, ``offset − k`` when clipped at the first frame ``first``, else
    ``onset + k`` (clipped at the end). Without ``k``: the middle."""
    if k is None or offset - onset == 2 * k:
        return (onset + offset) / 2
    return offset - k if onset <= first else onset + k


def plot_timeline(entry: dict[str, Any], protocols: list[str], k: dict[str, int] | None = None) -> Any:
    """Per kind, two panels: the smoothed score curve of each protocol with its threshold (dashed) and, on the
    curve, the peaks its predicted intervals came from; below, each protocol's predicted intervals as thin bars,
    overlapping ones in separate lanes. Ground truth shaded in both. The legend is outside the plotting area; the
    bars have their own axes, so they never cover tick labels. ``k``: the fold's k per kind (frames)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    by_kind: dict[str, dict[str, list[tuple[int, int]]]] = {
        kind: {p: [(int(a), int(b)) for a, b, kk in entry["predicted"].get(p, []) if kk == kind] for p in protocols}
        for kind in ("ME", "MaE")}
    lane_of = {kind: {p: lanes(ivs) for p, ivs in per.items()} for kind, per in by_kind.items()}
    n_lanes = {kind: {p: max(ls, default=-1) + 1 for p, ls in per.items()} for kind, per in lane_of.items()}
    heights = []
    for kind in ("ME", "MaE"):
        heights += [3.0, max(0.6, 0.16 * sum(max(1, n) for n in n_lanes[kind].values()))]
    fig, axes = subplots(4, 1, figsize=(9.0, 1.0 + 0.9 * sum(heights)), sharex=True,
                         gridspec_kw={"height_ratios": heights})
    for row, kind in enumerate(("ME", "MaE")):
        ax, bars = axes[2 * row], axes[2 * row + 1]
        for onset, offset, kk in entry["ground_truth"]:
            if kk == kind:
                for a in (ax, bars):
                    a.axvspan(onset, offset + 1, color=KIND_COLOURS[kind], alpha=0.18, lw=0)
        ticks, labels = [], []
        base = 0.0
        for p in protocols:
            c = entry["curves"].get(p, {})
            colour = PROTOCOL_COLOURS.get(p)
            if kind in c:
                frames = np.asarray(c["frames"][:len(c[kind])], dtype=float)
                curve = np.asarray(c[kind], dtype=float)
                ax.plot(frames, curve, color=colour, lw=1.2)
                ax.axhline(c[f"threshold_{kind}"], color=colour, lw=0.9, ls="--")
                centres = [peak_of(a, b, frames[0], (k or {}).get(kind)) for a, b in by_kind[kind][p]]
                if centres and frames.size:
                    ax.plot(centres, np.interp(centres, frames, curve), ls="none", marker="v", ms=4, color=colour)
            lanes_here = max(1, n_lanes[kind][p])
            for (onset, offset), lane in zip(by_kind[kind][p], lane_of[kind][p]):
                y = base + lanes_here - 1 - lane
                bars.broken_barh([(onset, offset + 1 - onset)], (y + 0.15, 0.7), color=colour, lw=0)
            ticks.append(base + lanes_here / 2)
            labels.append(p)
            base += lanes_here
            bars.axhline(base, color="#999", lw=0.5)
        bars.set_ylim(base, 0)
        bars.set_yticks(ticks, labels, fontsize=6)
        bars.tick_params(axis="y", length=0)
        bars.set_ylabel("predicted", fontsize=7)
        ax.set_ylabel(f"{kind} score" + (f"\n(k = {k[kind]})" if k and kind in k else ""), fontsize=8)
        ax.grid(alpha=0.3)
        bars.grid(alpha=0.3, axis="x")
    axes[-1].set_xlabel("source frame")
    handles = [Line2D([], [], color=PROTOCOL_COLOURS.get(p), lw=1.2, label=p) for p in protocols]
    handles += [Line2D([], [], color="#555", lw=0.9, ls="--", label="threshold"),
                Line2D([], [], color="#555", ls="none", marker="v", ms=4, label="peak → interval"),
                Patch(color=KIND_COLOURS["ME"], alpha=0.18, label="ME (truth)"),
                Patch(color=KIND_COLOURS["MaE"], alpha=0.18, label="MaE (truth)")]
    fig.suptitle(f"{entry['video']} (held-out subject {entry['test_subject']})", fontsize=9)
    fig.tight_layout(rect=(0, 0, 0.8, 1))
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.805, 0.93), fontsize=7, frameon=False)
    return fig


def timeline_caption(entry: dict[str, Any], k: dict[str, int] | None, softnet: bool = False) -> str:
    """Figure 12's caption: what is drawn, and why a score above its threshold can give no interval. ``softnet``:
    the intervals were decoded by SOFTNet's rule (window [c, c + 2k] after a non-centred mean)."""
    window = ("[c, c + 2k] after a peak c of the non-centred 2k-frame mean" if softnet else
              "[c − k, c + k] around a peak c")
    ks = ", ".join(f"{kind} {k[kind]}" for kind in ("ME", "MaE") if k and kind in k)
    return (f"{entry['video']} (seed {entry['seed']}): smoothed score per protocol with its threshold (dashed; "
            "T = mean + p·(max − mean) of that curve), ground truth shaded (ME red, MaE green); below each score "
            "panel, the predicted intervals as thin bars, one row of lanes per protocol, overlapping intervals in "
            "separate lanes; ▼ marks the peak each came from. A predicted interval is the decoding window "
            f"{window} of the smoothed score above the threshold"
            + (f" (k = {ks} frames in this fold)" if ks else "") + ". A stretch above the threshold gives no "
            "interval when it has no peak of its own: peaks must be at least k frames apart (a higher peak "
            "nearby wins), the first and last frames of the video are never peaks (a curve still rising at the "
            "edge has none), and the curve drawn is thinned (one point in every few frames of a long video), so a "
            "narrow peak can look lower than the one decoded.")


def _choices(doc: dict[str, Any]) -> str:
    """The feature recipe, k rule and decoding ``spotting.json`` states (absent in files of older versions)."""
    f = doc.get("features")
    if not f:
        return ""
    return (f" Features: the `{f['recipe']['name']}` recipe (version {f['recipe']['version']}, {f['recipe']['flow']} "
            f"flow), read from `{f['export']}` (`samm-synth features`); k: {f['k']}; decoding: {f['decoding']}.")


def fill_section(sec: Any, release: Path, figures: Path) -> Any:
    """Fill the report's spotting ``Section`` ``sec`` from the release's ``quality/spotting.json`` (figures into
    ``figures``), or skip it when the benchmark has not run. The section records the sha256 of the file it was
    written from, which ``verify`` checks against the manifest. Returns ``sec``."""
    doc = read_spotting(release)
    if doc is None:
        return sec.skip("no quality/spotting.json: run samm-synth spotting-benchmark")
    s = doc["settings"]
    sec.doc.p(f"{doc['method']}. Settings (all of them are in `quality/spotting.json`; `samm-synth "
              f"spotting-benchmark RELEASE --source-root CORPUS --settings quality/spotting.json` reruns them): "
              f"{s['epochs']} epochs, SGD lr {s['lr']}, batch {s['batch_size']}, p {s['p']}, features "
              f"{s['flow_size']} px flow → {s['input_size']}² input, test videos: {s['test_videos']}. Predictions per "
              "protocol, fold and seed: `quality/spotting/*.csv`." + _choices(doc))
    sec.doc.p("**Result**: " + claim(doc))
    sec.doc.p("**What these numbers can support**: " + support(doc))
    verdicts, table = verdict_table(doc), pooled_table(doc)
    sec.doc.table(verdicts.set_index("kind"), f"Differences from {doc['bootstrap']['baseline']} (F1, all seeds "
                  f"pooled) with their {doc['bootstrap']['level']:.0%} intervals over held-out subjects; verdict "
                  "from the interval alone.", digits=3)
    sec.doc.table(table, "Pooled over folds and seeds (MEGC rule); F1_low/F1_high: the bootstrap interval; "
                         "F1_seed_mean/sd: over the seeds, each pooled over folds; train_intervals: intervals in "
                         "the training videos, summed over folds (a synthetic copy counts as one more).")
    sec.doc.table(seed_table(doc), "Per seed, pooled over folds.")
    folds = fold_table(doc)
    sec.doc.table(folds, "Per fold (held-out subject), all seeds pooled: k per kind (from the fold's training "
                         "intervals) and F1.")
    sec.doc.figure(save_figure(plot_protocol_f1(doc), figures / "fig11_spotting_f1.png"),
                   "Figure 11. Pooled F1 per protocol and kind with its interval over held-out subjects (error "
                   "bars) and the true positives behind it.")
    k_of = {f["test_subject"]: f["k"] for f in doc["folds"]}
    for i, entry in enumerate(doc["timelines"]):
        name = f"fig12_spotting_timeline_{i + 1}.png"
        k = k_of.get(entry["test_subject"])
        sec.doc.figure(save_figure(plot_timeline(entry, doc["protocols"], k), figures / name),
                       f"Figure 12.{i + 1}. " + timeline_caption(entry, k, bool((doc.get("features") or {})
                                                                               .get("k_per_kind"))))
    sec.result = {"pooled": table, "verdicts": verdicts, "folds": folds, "claim": claim(doc),
                  "protocols": doc["protocols"], "bootstrap": doc["bootstrap"], "n_subjects": doc["n_subjects"],
                  "n_intervals": doc["n_intervals"], "seeds": doc["seeds"],
                  "source": {"path": fmt.SPOTTING_JSON, "sha256": fmt.sha256_file(release / fmt.SPOTTING_JSON)}}
    sec.claims["spotting"] = claim(doc)
    return sec
