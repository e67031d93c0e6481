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
    if verdicts and all(v == "inconclusive" for v in verdicts):
        text += (" Every interval of a difference includes 0, so these numbers do not show that the synthetic "
                 "videos help or hurt.")
    return text


def support(doc: dict[str, Any]) -> str:
    """Plain words on what the numbers can and cannot support (the report says it next to the tables)."""
    n = doc["n_subjects"]
    text = (f"These numbers rest on {evidence(doc)}. The bootstrap resamples people, not intervals, because "
            "intervals of one person are not independent; a verdict is \"helps\" or \"hurts\" only when the whole "
            "interval of the difference is on one side of 0.")
    if n < 5:
        text += (f" With {n} held-out subjects a resample can only mix {n} people, so the intervals are wide and "
                 "say little: treat any difference here as a smoke test of the pipeline, not as evidence about "
                 "synthetic data. A real answer needs the full corpus (e.g. SAMM-LV's 32 subjects).")
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


def plot_timeline(entry: dict[str, Any], protocols: list[str]) -> Any:
    """One panel per kind: the smoothed score curve of each protocol (dotted: its threshold) against the
    ground-truth intervals (shaded), predicted intervals as bars under the curves."""

    fig, axes = subplots(2, 1, figsize=(8.0, 4.4), sharex=True)
    for ax, kind in zip(axes, ("ME", "MaE")):
        for onset, offset, k in entry["ground_truth"]:
            if k == kind:
                ax.axvspan(onset, offset, color=KIND_COLOURS[kind], alpha=0.18, lw=0)
        for i, p in enumerate(protocols):
            c = entry["curves"].get(p, {})
            colour = PROTOCOL_COLOURS.get(p)
            if kind in c:
                ax.plot(c["frames"][:len(c[kind])], c[kind], color=colour, lw=1.2, label=p)
                ax.axhline(c[f"threshold_{kind}"], color=colour, lw=0.8, ls=":")
            y = -0.06 - 0.05 * i
            for onset, offset, k in entry["predicted"].get(p, []):
                if k == kind:
                    ax.plot([onset, offset], [y, y], color=colour, lw=3, solid_capstyle="butt",
                            transform=ax.get_xaxis_transform(), clip_on=False)
        ax.set_ylabel(f"{kind} score")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, ncol=len(protocols), loc="upper right")
    axes[-1].set_xlabel("source frame")
    fig.suptitle(f"{entry['video']} (held-out subject {entry['test_subject']})", fontsize=9)
    fig.tight_layout()
    return fig


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
    for i, entry in enumerate(doc["timelines"]):
        name = f"fig12_spotting_timeline_{i + 1}.png"
        sec.doc.figure(save_figure(plot_timeline(entry, doc["protocols"]), figures / name),
                       f"Figure 12.{i + 1}. {entry['video']} (seed {entry['seed']}): smoothed score per protocol "
                       "(dotted: its threshold), ground truth shaded (ME red, MaE green), predicted intervals as "
                       "bars below each panel.")
    sec.result = {"pooled": table, "verdicts": verdicts, "folds": folds, "claim": claim(doc),
                  "protocols": doc["protocols"], "bootstrap": doc["bootstrap"], "n_subjects": doc["n_subjects"],
                  "n_intervals": doc["n_intervals"], "seeds": doc["seeds"],
                  "source": {"path": fmt.SPOTTING_JSON, "sha256": fmt.sha256_file(release / fmt.SPOTTING_JSON)}}
    sec.claims["spotting"] = claim(doc)
    return sec
