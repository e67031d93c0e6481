"""The spotting-utility part of the quality report, read from ``quality/spotting.json`` (written by
``samm-synth spotting-benchmark``; the metrics never run the baseline): the pooled table, per-fold F1 bars, score
timelines of a few test videos, the card's headline table and claim sentence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from samm_synth_dataset import format as fmt

SPOTTING_JSON = fmt.SPOTTING_JSON
KINDS: tuple[str, ...] = ("ME", "MaE", "overall")
#: Colours of the kinds in the figures (ME red, MaE green, as Figure 3).
KIND_COLOURS: dict[str, str] = {"ME": "tab:red", "MaE": "tab:green"}
PROTOCOL_COLOURS: dict[str, str] = {"real": "tab:blue", "synthetic": "tab:orange", "real+synthetic": "tab:purple"}


def read_spotting(release: str | Path) -> dict[str, Any] | None:
    """``quality/spotting.json`` of the release, or None when the benchmark has not run. A file that is not
    valid JSON of the expected shape raises ValueError naming it."""
    path = Path(release) / SPOTTING_JSON
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text())
        doc["pooled"], doc["folds"], doc["protocols"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a spotting benchmark result ({exc}); re-run `samm-synth "
                         "spotting-benchmark`") from exc
    return doc


def pooled_table(doc: dict[str, Any]) -> pd.DataFrame:
    """One row per protocol and kind: pooled TP, FP, FN, precision, recall, F1 and the training intervals seen
    (summed over folds)."""
    rows = []
    for protocol in doc["protocols"]:
        seen = {kind: sum(f["protocols"][protocol]["kinds"][kind]["n_train_intervals"] for f in doc["folds"])
                for kind in KINDS[:2]}
        for kind in KINDS:
            s = doc["pooled"][protocol][kind]
            rows.append({"protocol": protocol, "kind": kind, "TP": s["tp"], "FP": s["fp"], "FN": s["fn"],
                         "precision": s["precision"], "recall": s["recall"], "F1": s["f1"],
                         "train_intervals": seen[kind] if kind in seen else sum(seen.values())})
    return pd.DataFrame(rows)


def fold_table(doc: dict[str, Any]) -> pd.DataFrame:
    """One row per fold and protocol: k per kind, ME/MaE/overall F1 and training intervals per kind."""
    rows = []
    for f in doc["folds"]:
        for protocol, r in f["protocols"].items():
            rows.append({"test_subject": f["test_subject"], "protocol": protocol, "k_ME": f["k"].get("ME"),
                         "k_MaE": f["k"].get("MaE"), "F1_ME": r["scores"]["ME"]["f1"],
                         "F1_MaE": r["scores"]["MaE"]["f1"], "F1_overall": r["scores"]["overall"]["f1"],
                         "train_ME": r["kinds"]["ME"]["n_train_intervals"],
                         "train_MaE": r["kinds"]["MaE"]["n_train_intervals"]})
    return pd.DataFrame(rows)


def claim(doc: dict[str, Any]) -> str:
    """The card's sentence: each protocol's pooled overall F1 (ME, MaE) and how it was measured."""
    parts = [f"{p} {doc['pooled'][p]['overall']['f1']:.3f} (ME {doc['pooled'][p]['ME']['f1']:.3f}, MaE "
             f"{doc['pooled'][p]['MaE']['f1']:.3f})" for p in doc["protocols"]]
    s = doc["settings"]
    return (f"Spotting utility: a SOFTNet-style baseline trained per protocol and tested on the REAL videos of "
            f"each held-out subject (LOSO by source subject, {len(doc['folds'])} folds, {s['epochs']} epochs, seed "
            f"{s['seed']}) reaches a pooled MEGC F1 (IoU >= 0.5) of " + "; ".join(parts) + ".")


def plot_fold_f1(doc: dict[str, Any]) -> Any:
    """Bars of the overall F1 per fold, one bar per protocol."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    folds = [f["test_subject"] for f in doc["folds"]]
    protocols = doc["protocols"]
    width = 0.8 / len(protocols)
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(folds) + 2), 3.0))
    x = np.arange(len(folds))
    for i, p in enumerate(protocols):
        ax.bar(x + (i - (len(protocols) - 1) / 2) * width,
               [f["protocols"][p]["scores"]["overall"]["f1"] for f in doc["folds"]], width, label=p,
               color=PROTOCOL_COLOURS.get(p))
    ax.set_xticks(x, folds, fontsize=8)
    ax.set_xlabel("held-out subject")
    ax.set_ylabel("overall F1")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, ncol=len(protocols), loc="upper left")
    fig.tight_layout()
    return fig


def plot_timeline(entry: dict[str, Any], protocols: list[str]) -> Any:
    """One panel per kind: the smoothed score curve of each protocol (dotted: its threshold) against the
    ground-truth intervals (shaded), predicted intervals as bars under the curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(8.0, 4.4), sharex=True)
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
