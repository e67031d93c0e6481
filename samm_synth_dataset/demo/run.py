"""``samm-synth demo``: the whole pipeline on the embedded demo corpus.

Stages run in order: demo corpus (SAMM-LV layout) → build (colour transfer, no weights needed) → quality report →
versioned release. Each stage that exists runs; the command prints where everything is.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)


def _clear_previous(path: Path) -> None:
    """Remove a previous demo build/release at ``path`` (only one this package wrote: it has a manifest)."""
    import shutil

    from samm_synth_dataset import format as fmt

    if not path.exists():
        return
    if not (path / fmt.MANIFEST).is_file() and any(path.iterdir()):
        raise FileExistsError(f"{path}: exists, is not empty and is not a previous demo output; choose another --out")
    shutil.rmtree(path)


#: Frames sampled per video by the demo report's identity section (the report's default is 25): keeps the demo
#: within its time budget; the claim and the report state the number used.
DEMO_IDENTITY_SAMPLES = 10
#: Demo sizes: corpus size (``demo.corpus``) and synthetic frame side in pixels.
DEMO_SIZES: dict[str, tuple[str, int]] = {"full": ("full", 256), "small": ("small", 128)}


def run_demo(out: Path, seed: int = 0, progress: bool = True, size: str = "full") -> dict[str, Path]:
    """Run every stage into ``out``; return the paths written, by stage. ``size``: ``full`` (the README's demo:
    4 videos × 500 frames, 256² synthetic frames) or ``small`` (4 × 270 frames, 128², for a quick look).

    ``out/corpus`` the demo corpus (SAMM-LV layout + ground truth), ``out/build`` the colour-transfer build,
    ``out/release`` the versioned release 1.0.0 with its card and ``quality/`` report.
    """
    from samm_synth_dataset.builders import build
    from samm_synth_dataset.builders.config import demo_config
    from samm_synth_dataset.demo.corpus import make_demo_corpus
    from samm_synth_dataset.release.release import make_release
    from samm_synth_dataset.report.report import make_report

    if size not in DEMO_SIZES:
        raise ValueError(f"demo size must be one of {sorted(DEMO_SIZES)}, got {size!r}")
    corpus_size, image_size = DEMO_SIZES[size]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}

    t0 = time.perf_counter()
    corpus = make_demo_corpus(out / "corpus", seed=seed, size=corpus_size)  # type: ignore[arg-type]
    written["corpus"] = corpus.root
    log.info("stage 1/4 corpus: %s (%.1f s)", corpus.root, time.perf_counter() - t0)

    t0 = time.perf_counter()
    build_dir = out / "build"
    _clear_previous(build_dir)
    summary = build(demo_config(corpus, build_dir, seed=seed, progress=progress, image_size=image_size))
    if not summary.complete:
        raise RuntimeError(f"demo build did not complete:\n{summary.format()}")
    written["build"] = build_dir
    log.info("stage 2/4 build: %s (%.1f s)", build_dir, time.perf_counter() - t0)

    t0 = time.perf_counter()  # spotting utility on the build, so that the report and the release carry it
    from samm_synth_dataset.spotting.benchmark import run_benchmark
    from samm_synth_dataset.spotting.benchmark_settings import demo_settings

    run_benchmark(build_dir, corpus.frames_root, settings=demo_settings(), progress=progress)
    log.info("stage spotting benchmark: %s (%.1f s)", build_dir / "quality" / "spotting.json",
             time.perf_counter() - t0)

    t0 = time.perf_counter()
    report = make_report(build_dir, source_root=corpus.frames_root, progress=progress,
                         identity_samples=DEMO_IDENTITY_SAMPLES)
    written["report"] = build_dir / "quality" / "report.html"
    log.info("stage 3/4 quality report: %s (%.1f s; skipped: %s)", written["report"], time.perf_counter() - t0,
             report.get("skipped") or "nothing")

    t0 = time.perf_counter()
    release_dir = out / "release"
    _clear_previous(release_dir)
    make_release(build_dir, "1.0.0", out=release_dir,
                 notes="Demo release: the embedded demo corpus restyled by colour transfer (no identity change).")
    written["release"] = release_dir
    written["card"] = release_dir / "README.md"
    written["quality"] = release_dir / "quality" / "report.html"
    log.info("stage 4/4 release: %s (%.1f s)", release_dir, time.perf_counter() - t0)
    return written


def _cmd_demo(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    written = run_demo(Path(args.out), seed=args.seed, size=args.size)
    print(f"demo finished in {time.perf_counter() - t0:.1f} s")
    for stage, path in written.items():
        print(f"  {stage:<10} {path}")
    return 0


def _cmd_make_demo_corpus(args: argparse.Namespace) -> int:
    from samm_synth_dataset.demo.casme2_corpus import make_casme2_corpus
    from samm_synth_dataset.demo.casme3_corpus import make_casme3_corpus
    from samm_synth_dataset.demo.corpus import make_demo_corpus

    t0 = time.perf_counter()
    try:
        if args.layout == "casme3":
            casme3 = make_casme3_corpus(Path(args.out), quirks=args.quirks, unlabelled=args.unlabelled_clips)
        elif args.layout == "casme2":
            casme2 = make_casme2_corpus(Path(args.out), quirks=args.quirks)
        else:
            corpus = make_demo_corpus(Path(args.out), seed=args.seed, size=args.size, quirks=args.quirks)
    except FileExistsError as exc:
        print(f"samm-synth make-demo-corpus: error: {exc}", file=sys.stderr)
        return 1
    if args.layout == "casme3":
        print(f"CAS(ME)³-layout demo corpus (quirks {'on' if args.quirks else 'off'}) written in "
              f"{time.perf_counter() - t0:.1f} s to {casme3.root}")
        print(f"  frames       {casme3.frames_root}  ({', '.join(casme3.videos)})")
        print(f"  annotations  {casme3.annotations}  (AU+Emotion: ME and MaE)")
        print(f"  ME labels    {casme3.label_workbook}  (label: ME only, with emotion words)")
        print(f"  references   {casme3.references_csv}")
        print(f"  ground truth {casme3.ground_truth}")
        return 0
    if args.layout == "casme2":
        print(f"CAS(ME)²-layout demo corpus (quirks {'on' if args.quirks else 'off'}) written in "
              f"{time.perf_counter() - t0:.1f} s to {casme2.root}")
        print(f"  frames       {casme2.frames_root}  ({', '.join(casme2.videos)})")
        print(f"  annotations  {casme2.annotations}  (9 columns, both emotion columns)")
        print(f"  references   {casme2.references_csv}")
        print(f"  ground truth {casme2.ground_truth}")
        return 0
    print(f"demo corpus ({args.size}, seed {args.seed}, quirks {'on' if args.quirks else 'off'}) written in "
          f"{time.perf_counter() - t0:.1f} s to {corpus.root}")
    print(f"  frames       {corpus.frames_root}  ({', '.join(corpus.videos)})")
    print(f"  annotations  {corpus.annotations}")
    print(f"  references   {corpus.references_csv}")
    print(f"  subjects     {corpus.subjects_csv}")
    print(f"  ground truth {corpus.ground_truth}")
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="run the whole pipeline on the embedded demo corpus",
                              description=__doc__)
    p.add_argument("--out", required=True, help="output directory (created)")
    p.add_argument("--seed", type=int, default=0, help="random seed for the demo corpus (default 0)")
    p.add_argument("--size", choices=sorted(DEMO_SIZES), default="full",
                   help="full (default: 4 videos × 500 frames, 256² output) or small (4 × 270 frames, 128²)")
    p.set_defaults(func=_cmd_demo)

    m = subparsers.add_parser(
        "make-demo-corpus",
        help="write the real-face demo corpus (SAMM-LV, CAS(ME)² or CAS(ME)³ layout + ground truth)",
        description="Write the demo corpus: the matplotlib sample face animated with scripted micro-/macro-"
                    "expressions, as SAMM-LV (or, with --layout casme2 / casme3, CAS(ME)² / CAS(ME)³ Part A) frames "
                    "and annotation "
                    "workbook(s), colour references, and exact ground "
                    "truth (intervals, warp parameters, per-frame displacement) in DIR/ground_truth.")
    m.add_argument("--out", required=True, metavar="DIR",
                   help="corpus folder (created; a previous demo corpus there is replaced)")
    m.add_argument("--seed", type=int, default=0, help="random seed (default 0: the nominal design)")
    m.add_argument("--size", choices=("full", "small"), default="full",
                   help="full: 4 videos × 500 frames, 512×600 px (demo); small: 4 × 270 frames, 256×300 px (tests)")
    m.add_argument("--layout", choices=("samm-lv", "casme2", "casme3"), default="samm-lv",
                   help="samm-lv (default); casme2: the same faces as CAS(ME)² rawpic folders (30 fps, 4 videos "
                        "of 2 subjects, 480 frames) with its 9-column workbook (estimated emotion and emotion "
                        "columns); casme3: as CAS(ME)³ Part A frame folders (30 fps, 5 clips of 2 subjects, 620 "
                        "frames) with AU+Emotion and JpgIndex-style label workbooks (emotion words); --size and "
                        "--seed apply to samm-lv only")
    m.add_argument("--quirks", action="store_true",
                   help="write the real sheet's quirks into the workbook (SAMM-LV: fractional frame, apex -1, "
                        "onset 0, duplicate Filename, offset past the last frame; CAS(ME)²: offset 0, apex 0, "
                        "offset before apex; CAS(ME)³: onset/apex 0, apex outside the interval, a long ME, offset "
                        "0, onset after offset, an emotion written 'Others')")
    m.add_argument("--unlabelled-clips", action="store_true",
                   help="casme3 only: two more clips without any expression (in no sheet), as CAS(ME)³ Part A has "
                        "many; the build makes them and the spotting benchmark scores them")
    m.set_defaults(func=_cmd_make_demo_corpus)
