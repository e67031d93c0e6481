"""Benchmark ``samm-synth features`` per recipe: pairs per second on one core, the speed-up of 2 workers over 1,
bytes per pair, and a projection for SAMM-LV (one k per kind; originals + synthetic).

    python benchmarks/features.py [--videos 006_1] [--refs 2] [--kinds MaE] [--recipes default,softnet,mtsn]

Setup: the demo corpus, built by colour transfer at 128² from ``--videos`` with ``--refs`` references per subject
(default: one source video × 2 references = 2 synthetic videos of 270 frames, so that 2 workers have a task each).
Each recipe runs ``export_features`` exactly as the command does: first in this process pinned to one core
(affinity one CPU, OpenCV and torch at one thread), then (``--speedup`` recipes, default softnet) with
``workers=2`` on both cores (worker start-up included). A pair is one row (pair (i, i + k)); mtsn's rows also
carry the pair (i, i + 1), which costs a second TV-L1 flow per frame. Bytes per pair: the recipe's Parquet files
(zstd) over their rows.

Projection: SAMM-LV has about ``--samm-frames`` frames (default 1,000,000); with one k per kind every frame
starts about one pair per kind, so pairs = frames × kinds × (1 original + ``--samm-refs`` synthetic copies).
Core-hours = pairs / (pairs/s on one core) / 3600; storage = pairs × bytes per pair.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stages import one_core  # noqa: E402 - the sibling benchmark's helper (pin to one core)


def build(root: Path, videos: tuple[str, ...], refs: int) -> tuple[Path, Path]:
    """A colour-transfer release of the demo corpus's ``videos`` at 128²: (release, the corpus's frames root)."""
    from samm_synth_dataset.builders import build as build_release
    from samm_synth_dataset.builders.config import demo_config
    from samm_synth_dataset.demo.corpus import make_demo_corpus

    corpus = make_demo_corpus(root / "corpus", seed=0, size="small")
    out = root / "release"
    summary = build_release(demo_config(corpus, out, max_part_frames=100, image_size=128, face_samples=5,
                                        refs_per_subject=refs, videos=videos, progress=False))
    if not summary.complete:
        raise RuntimeError(summary.format())
    return out, corpus.frames_root


def run(master: Path, work: Path, recipe: str, kinds: list[str], workers: int) -> tuple[float, int, int]:
    """Seconds, pairs (rows) and bytes of one export on a fresh copy of the release."""
    from samm_synth_dataset import format as fmt
    from samm_synth_dataset.spotting.export import export_features

    release = work / f"{recipe}-{workers}"
    shutil.rmtree(release, ignore_errors=True)
    shutil.copytree(master, release)
    t0 = time.perf_counter()
    block = export_features(release, recipe, kinds, workers=workers, progress=False)
    seconds = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in (release / fmt.FEATURES_DIR / recipe).glob("*.parquet"))
    return seconds, int(block["rows"]), size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", nargs="+", default=["006_1"], help="demo source videos to build (default 006_1)")
    ap.add_argument("--refs", type=int, default=2, help="references per subject (default 2)")
    ap.add_argument("--kinds", nargs="+", default=["ME", "MaE"], help="kinds whose k to export (default both)")
    ap.add_argument("--recipes", default="default,softnet,mtsn", help="comma-separated recipes")
    ap.add_argument("--speedup", default="softnet", help="comma-separated recipes also run with 2 workers")
    ap.add_argument("--samm-frames", type=int, default=1_000_000, help="SAMM-LV frames for the projection")
    ap.add_argument("--samm-refs", type=int, default=1, help="synthetic copies per SAMM-LV video (projection)")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    from samm_synth_dataset.stages import cores

    root = Path(tempfile.mkdtemp(prefix="bench-features-"))
    try:
        master, _ = build(root, tuple(args.videos), args.refs)
        print(f"release: {len(args.videos)} source video(s) × {args.refs} references, 128², kinds "
              f"{' '.join(args.kinds)}; {cores()} cores")
        print(f"{'recipe':<9}{'pairs':>7}{'1 core s':>10}{'pairs/s':>9}{'bytes/pair':>12}{'2 workers s':>13}"
              f"{'speed-up':>10}{'SAMM-LV core-h':>16}{'SAMM-LV GB':>12}")
        for recipe in [r.strip() for r in args.recipes.split(",") if r.strip()]:
            with one_core():
                seconds, pairs, size = run(master, root, recipe, args.kinds, 1)
            rate, per_pair = pairs / seconds, size / pairs
            two = speedup = ""
            if recipe in args.speedup.split(","):
                seconds2, _, _ = run(master, root, recipe, args.kinds, 2)
                two, speedup = f"{seconds2:.1f}", f"{seconds / seconds2:.2f}×"
            total = args.samm_frames * len(args.kinds) * (1 + args.samm_refs)
            print(f"{recipe:<9}{pairs:>7}{seconds:>10.1f}{rate:>9.1f}{per_pair:>12.0f}{two:>13}{speedup:>10}"
                  f"{total / rate / 3600:>16.1f}{total * per_pair / 1e9:>12.1f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
