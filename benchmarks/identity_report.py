"""Benchmark the report's identity section on a build: faces per second of the descriptor step
(``FaceDescriber.describe``: HOG detection, 5-point alignment, dlib ResNet descriptor), the section's time and its
share of the whole report's run time, and a projection for all of SAMM-LV (147 long videos).

    python benchmarks/identity_report.py BUILD [--source-root DIR] [--samples 25] [--refs-per-video 1]
    python benchmarks/identity_report.py --demo DIR [--size small]    # runs `samm-synth demo` into DIR first

The stages' folders (``BUILD/.build/stages``, where finished tasks are kept) are cleared first, so every descriptor
is computed. Numbers depend
on the machine and its load (the report runs in one process).
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

#: SAMM-LV: long videos (source videos) in the corpus.
SAMM_LV_VIDEOS = 147


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("build", nargs="?", help="a finished build (or release) directory")
    ap.add_argument("--source-root", help="its corpus (default: the manifest's)")
    ap.add_argument("--demo", help="run the demo into this folder first and measure its build")
    ap.add_argument("--size", default="small", choices=("small", "full"), help="demo size (default small)")
    ap.add_argument("--samples", type=int, default=25, help="frames per video (default 25)")
    ap.add_argument("--refs-per-video", type=int, default=1,
                    help="synthetic videos per SAMM-LV source video in the projection (default 1)")
    args = ap.parse_args()

    from samm_synth_dataset.identity import descriptor as I, section as R
    from samm_synth_dataset.report import report

    if args.demo:
        from samm_synth_dataset.demo.run import run_demo

        written = run_demo(Path(args.demo), progress=False, size=args.size)
        build, source_root = written["build"], Path(args.demo) / "corpus" / "SAMM_longvideos"
    elif args.build:
        build, source_root = Path(args.build), (Path(args.source_root) if args.source_root else None)
    else:
        ap.error("give a BUILD or --demo DIR")
    shutil.rmtree(build / ".build" / "stages", ignore_errors=True)

    describe_s = [0.0, 0, 0.0]   # wall s, faces, CPU s
    original = I.FaceDescriber.describe

    def timed_describe(self, image, where="image"):
        t, c = time.perf_counter(), time.process_time()
        out = original(self, image, where)
        describe_s[0] += time.perf_counter() - t
        describe_s[1] += 1
        describe_s[2] += time.process_time() - c
        return out

    I.FaceDescriber.describe = timed_describe  # type: ignore[method-assign]
    sections: dict[str, float] = {}

    cpu: dict[str, float] = {}

    def timed_work(work):
        def run(ctx):
            t, c = time.perf_counter(), time.process_time()
            work(ctx)
            key = "identity" if work is R.describe_videos else "flow"  # the per-video halves of the sections
            sections[key] = sections.get(key, 0.0) + time.perf_counter() - t
            cpu[key] = cpu.get(key, 0.0) + time.process_time() - c
        return run

    def timed(build_section):
        def run(ctx):
            t, c = time.perf_counter(), time.process_time()
            sec = build_section(ctx)
            sections[sec.key] = sections.get(sec.key, 0.0) + time.perf_counter() - t
            cpu[sec.key] = cpu.get(sec.key, 0.0) + time.process_time() - c
            return sec
        return run

    report.SECTIONS = tuple(timed(s) for s in report.SECTIONS)
    report.PER_VIDEO_WORK = tuple(timed_work(w) for w in report.PER_VIDEO_WORK)
    t, c = time.perf_counter(), time.process_time()
    # one process (workers=1): the descriptors are computed here, where they are timed
    result = report.make_report(build, source_root=source_root, progress=False, identity_samples=args.samples,
                                workers=1)
    total, total_cpu = time.perf_counter() - t, time.process_time() - c
    ident = result["identity"]
    if "skipped" in ident:
        raise SystemExit(f"identity section skipped: {ident['skipped']}")
    n_videos = len(ident["videos"])
    size = int(result["manifest_config"].get("image_size") or 0)
    faces, secs, cpu_secs = describe_s[1], describe_s[0], describe_s[2]
    print(f"build {build}: {n_videos} videos, {size}² frames, {args.samples} frames sampled per video")
    print(f"descriptor step: {faces} faces in {secs:.1f} s = {faces / secs:.2f} faces/s "
          f"({1000 * secs / faces:.0f} ms per face); CPU time {cpu_secs:.1f} s = {faces / cpu_secs:.2f} faces/s per "
          "core (what an unloaded core gives)")
    print(f"identity section (its per-video work included): {sections['identity']:.1f} s (descriptors {secs / sections['identity']:.0%} of it; "
          "the rest reads and decodes frames, draws the figures)")
    print(f"whole report: {total:.1f} s; identity's share {sections['identity'] / total:.0%} "
          f"(sections, flow with the per-video flow + stability work: "
          f"{', '.join(f'{k} {v:.1f} s' for k, v in sections.items())})")
    print(f"CPU time: whole report {total_cpu:.1f} s, identity {cpu['identity']:.1f} s, share "
          f"{cpu['identity'] / total_cpu:.0%}")
    print(f"verdicts: {ident['summary']['recognisable']} recognisable, {ident['summary']['mixed']} mixed, "
          f"{ident['summary']['changed']} changed, {ident['summary']['unmeasured']} unmeasured")
    per_face = sections["identity"] / faces
    per_face_cpu = cpu["identity"] / faces
    k = args.refs_per_video
    proj_faces = SAMM_LV_VIDEOS * args.samples * (1 + k) + SAMM_LV_VIDEOS * k
    print(f"projection, SAMM-LV ({SAMM_LV_VIDEOS} source videos × {k} reference(s), {args.samples} frames each, "
          f"originals described once): {proj_faces} faces ≈ {proj_faces * per_face / 60:.1f} min in one process "
          f"at this machine's {1 / per_face:.2f} faces/s (section time per face), at {size}²; "
          f"(CPU time: {proj_faces * per_face_cpu / 60:.1f} min on one unloaded core); divide by the workers "
          "(`samm-synth report --workers N`); a re-run is served from the cache")


if __name__ == "__main__":
    main()
