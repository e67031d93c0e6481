"""Builder benchmark: end-to-end vs model-only throughput, and peak memory vs video length.

1. Throughput: frames/s of a whole ``build`` (read + crop + transfer + encode + write Parquet, measured by the
   build) ÷ frames/s of ``method.apply`` alone on the same frames already decoded, cropped and in memory
   (goal ≥ 0.9: the pipeline hides reading and encoding behind the model). Colour transfer always; with
   ``--stargan`` also a small random-weight StarGAN v2 (official architecture, reduced widths).
2. Memory: peak RSS of a build of a short vs a 10× longer video, each in a fresh subprocess (goal ratio ≤ 1.2:
   memory is bounded by batch and part size, not by video length).

Source frames are synthetic (a public-domain face photo, moved a little each frame, greyscale JPEG, SAMM-LV
layout) in a temporary folder. Run: ``python benchmarks/build.py [--quick] [--stargan]``. The machine's load
changes the absolute numbers; the ratios are measured side by side in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def make_corpus(root: Path, n_short: int, n_long: int, width: int, height: int) -> dict[str, Path]:
    """SAMM-LV-style frames: video ``900_1`` (n_short frames, hard links to the first frames of ``900_2``) and
    ``900_2`` (n_long frames); a references CSV (one colour reference) and a boxes CSV (the face box)."""
    import matplotlib.cbook

    from samm_synth_dataset.faces import detect_largest_face

    face = cv2.imread(str(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    scale = min(width / face.shape[1], height / face.shape[0])
    face = cv2.resize(face, (int(face.shape[1] * scale), int(face.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((height, width, 3), np.uint8)
    y0, x0 = (height - face.shape[0]) // 2, (width - face.shape[1]) // 2
    canvas[y0:y0 + face.shape[0], x0:x0 + face.shape[1]] = face
    grey = cv2.cvtColor(canvas, cv2.COLOR_BGR2GRAY)
    box = detect_largest_face(grey) or (width // 4, height // 4, min(width, height) // 2, min(width, height) // 2)
    frames = root / "SAMM_longvideos"
    long_dir, short_dir = frames / "900_2", frames / "900_1"
    long_dir.mkdir(parents=True)
    short_dir.mkdir()
    rng = np.random.default_rng(0)
    for n in range(1, n_long + 1):
        dx, dy = int(round(2 * np.sin(n / 37))), int(round(np.cos(n / 53)))
        img = np.roll(grey, (dy, dx), axis=(0, 1))
        img = cv2.add(img, rng.integers(0, 3, img.shape, dtype=np.uint8))
        path = long_dir / f"900_2_{n:05d}.jpg"
        cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
        if n <= n_short:
            os.link(path, short_dir / f"900_1_{n:05d}.jpg")
    ref = root / "ref.png"
    cv2.imwrite(str(ref), cv2.resize(canvas[box[1]:box[1] + box[3], box[0]:box[0] + box[2]], (256, 256)))
    refs = root / "references.csv"
    refs.write_text(f"subject,reference_path,domain,reference_id\n900,{ref},female,ref01\n")
    boxes = root / "boxes.csv"
    boxes.write_text("video,x,y,w,h\n" + "".join(f"{v},{box[0]},{box[1]},{box[2]},{box[3]}\n"
                                                  for v in ("900_1", "900_2")))
    return {"frames": frames, "references": refs, "boxes": boxes}


def make_stargan_checkpoint(path: Path, img_size: int = 256) -> Path:
    """A random-weight StarGAN v2 in the official checkpoint layout (no masks, reduced widths)."""
    import torch

    from samm_synth_dataset.transfer.model import Generator, MappingNetwork, StyleEncoder

    torch.manual_seed(0)
    nets = {"generator": Generator(img_size, style_dim=16, max_conv_dim=64, w_hpf=0, dim_in=16),
            "mapping_network": MappingNetwork(latent_dim=8, style_dim=16, num_domains=2, hidden_dim=64),
            "style_encoder": StyleEncoder(img_size, style_dim=16, num_domains=2, max_conv_dim=64, dim_in=16)}
    torch.save({k: v.state_dict() for k, v in nets.items()}, path)
    return path


def config_for(corpus: dict[str, Path], out: Path, video: str, method: str, checkpoint: Path | None,
               batch_size: int) -> "object":
    from samm_synth_dataset.builders import BuildConfig

    return BuildConfig(source_root=corpus["frames"], references=corpus["references"], boxes=corpus["boxes"],
                       out=out, videos=(video,), method=method, checkpoint=checkpoint, device="cpu",
                       formats=("parquet",), max_part_mb=64, batch_size=batch_size, progress=False, no_labels=True)


def model_only_fps(config: "object", repeats: int = 1) -> float:
    """frames/s of ``method.apply`` alone over the same frames, decoded and cropped beforehand."""
    from samm_synth_dataset.builders.plan import plan_units
    from samm_synth_dataset.builders.unit import load_reference_image
    from samm_synth_dataset.faces import locate_face
    from samm_synth_dataset.sources import iter_video_frames, to_rgb
    from samm_synth_dataset.transfer import load_method

    units, _, _ = plan_units(config)
    unit = units[0]
    method = load_method(config.method, checkpoint=config.checkpoint, device="cpu", batch_size=config.batch_size,
                         image_size=config.image_size)
    crop = locate_face(unit.source, size=method.image_size, boxes_csv=config.boxes)
    style = method.style(load_reference_image(unit.reference, method.image_size),
                         method.domain_index(unit.reference.domain))
    frames = np.stack([to_rgb(crop.apply(img)) for _, img in iter_video_frames(unit.source)])
    b = config.batch_size
    method.apply(frames[:b], style)  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        for i in range(0, len(frames), b):
            method.apply(frames[i:i + b], style)
    return repeats * len(frames) / (time.perf_counter() - t0)


def end_to_end_fps(config: "object") -> float:
    from samm_synth_dataset.builders import build

    summary = build(config)
    if not summary.complete:
        raise RuntimeError(summary.format())
    return summary.frames / summary.seconds


def child_peak_rss(corpus: dict[str, Path], out: Path, video: str) -> tuple[float, float]:
    """Build ``video`` in a fresh Python process; return (its peak RSS in MiB, seconds)."""
    spec = json.dumps({k: str(v) for k, v in corpus.items()} | {"out": str(out), "video": video})
    proc = subprocess.run([sys.executable, __file__, "--child", spec], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result["peak_rss_mib"], result["seconds"]


def _child(spec_json: str) -> None:
    spec = json.loads(spec_json)
    corpus = {k: Path(spec[k]) for k in ("frames", "references", "boxes")}
    config = config_for(corpus, Path(spec["out"]), spec["video"], "color-transfer", None, 8)
    t0 = time.perf_counter()
    end_to_end_fps(config)
    print(json.dumps({"peak_rss_mib": peak_rss_kib() / 1024, "seconds": time.perf_counter() - t0}))


def peak_rss_kib() -> int:
    """This process's peak RSS in KiB: ``VmHWM`` from /proc (per address space; ``ru_maxrss`` would carry the
    parent's peak over ``execve`` on Linux), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 vs 2,000 frames at 510×272 (default 1,000 vs "
                                                             "10,000 at 1020×544)")
    parser.add_argument("--stargan", action="store_true", help="also time a small random-weight StarGAN v2 (CPU)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    n_short, n_long, (w, h) = (200, 2000, (510, 272)) if args.quick else (1000, 10000, (1020, 544))
    with tempfile.TemporaryDirectory(prefix="samm-synth-bench-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        corpus = make_corpus(root / "corpus", n_short, n_long, w, h)
        print(f"source frames: {n_short} + {n_long} at {w}×{h} greyscale JPEG, made in "
              f"{time.perf_counter() - t0:.1f} s")

        rows = []
        methods = [("color-transfer", None, 8)]
        if args.stargan:
            methods.append(("stargan-v2", make_stargan_checkpoint(root / "tiny_nets_ema.ckpt"), 8))
        for method, ckpt, batch in methods:
            video = "900_1"
            cfg = config_for(corpus, root / f"out-{method}", video, method, ckpt, batch)
            model = model_only_fps(cfg)
            e2e = end_to_end_fps(cfg)
            rows.append((method, e2e, model))
        print(f"\nthroughput on {n_short} frames ({os.cpu_count()} CPU cores, batch 8, Parquet, JPEG q95):")
        print(f"  {'method':<16}{'end-to-end f/s':>16}{'model-only f/s':>16}{'ratio':>8}   (goal >= 0.9)")
        for method, e2e, model in rows:
            print(f"  {method:<16}{e2e:>16.1f}{model:>16.1f}{e2e / model:>8.2f}")

        rss_short, s_short = child_peak_rss(corpus, root / "rss-short", "900_1")
        rss_long, s_long = child_peak_rss(corpus, root / "rss-long", "900_2")
        print(f"\npeak RSS (colour transfer, one process each): {n_short} frames {rss_short:.0f} MiB "
              f"({s_short:.1f} s), {n_long} frames {rss_long:.0f} MiB ({s_long:.1f} s); ratio "
              f"{rss_long / rss_short:.2f} (goal <= 1.2)")


if __name__ == "__main__":
    main()
