"""StarGAN v2 transfer throughput on this machine, full CelebA-HQ architecture (256², w_hpf 1) with random
weights saved in the official checkpoint layout and loaded with ``StarGANv2.from_checkpoint``.

Measured side by side in one run (frames/s; one frame = FAN 8.73 + generator 45.37 GMAC = 108.2 GFLOP):
  (a) an official-style loop: per image PIL open, bilinear resize, ToTensor/Normalize, FAN masks, style encoder
      on the reference, generator, clamp, save_image PNG (fp32, NCHW, batch 1, as clovaai/stargan-v2 does);
  (b) our engine on the same frames: style once, frames read in a worker thread, batched, channels_last,
      inference_mode, PNG written by a writer thread — fp32 (exact) and the bf16 autocast option;
  model-only throughput (FAN + generator on tensors already in memory) and achieved GFLOP/s against a 2048²
  matmul peak measured in the same run, per dtype; and the bf16 outputs' mean |uint8 difference| from fp32.

    .venv/bin/python benchmarks/transfer.py [--frames 4] [--batch-size 4] [--threads N] [--quick]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import copy
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from samm_synth_dataset.sources.frames import read_image
from samm_synth_dataset.transfer import StarGANv2, translate_frames
from samm_synth_dataset.transfer.fan import FAN
from samm_synth_dataset.transfer.model import AdaIN, Generator, InstanceNorm, MappingNetwork, StyleEncoder

GMAC_FAN, GMAC_G, GMAC_E = 8.73, 45.37, 16.56  # spec §7
GFLOP_FRAME = 2 * (GMAC_FAN + GMAC_G)


def matmul_peak(dtype: torch.dtype, n: int = 2048, reps: int = 4) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


def write_checkpoint(path: Path) -> None:
    torch.manual_seed(0)
    fan = FAN()
    for m in fan.modules():  # plausible BN statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_var.uniform_(0.75, 1.25)
    torch.save({"generator": Generator().state_dict(), "mapping_network": MappingNetwork().state_dict(),
                "style_encoder": StyleEncoder().state_dict(), "fan": fan.state_dict()}, path)


def make_frames(folder: Path, n: int) -> list[Path]:
    """n greyscale 256² JPEG face-crop-like frames (SAMM-LV frames are greyscale JPEG)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:256, 0:256]
    face = (((xx - 128) / 95.0) ** 2 + ((yy - 128) / 120.0) ** 2 < 1) * 90.0
    paths = []
    for i in range(n):
        img = np.clip(60 + face + 0.2 * xx + rng.normal(0, 6, (256, 256)), 0, 255).astype(np.uint8)
        path = folder / f"frame_{i + 1:05d}.jpg"
        cv2.imwrite(str(path), img)
        paths.append(path)
    return paths


class OfficialAdaIN(AdaIN):
    """The official AdaIN arithmetic: (1 + gamma) * InstanceNorm2d(x) + beta, three passes."""

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        h = self.fc(s)
        h = h.view(h.size(0), h.size(1), 1, 1)
        gamma, beta = torch.chunk(h, chunks=2, dim=1)
        return (1 + gamma) * self.norm(x) + beta


def officialise(module: torch.nn.Module) -> torch.nn.Module:
    """A copy of our network computed with the official building blocks (torch InstanceNorm2d, AdaIN as
    written in clovaai/stargan-v2), NCHW. Same weights, same function."""
    module = copy.deepcopy(module).to(memory_format=torch.contiguous_format)
    for m in module.modules():
        if isinstance(m, InstanceNorm):
            m.__class__ = torch.nn.InstanceNorm2d
        elif isinstance(m, AdaIN):
            m.__class__ = OfficialAdaIN
    return module


def official_loop(model: StarGANv2, frames: list[Path], ref: Path, out: Path) -> float:
    """The clovaai pattern, per image: fp32, NCHW, batch 1, style encoder every time, save_image."""
    from PIL import Image
    import torchvision.transforms as T
    import torchvision.utils as vutils

    tf = T.Compose([T.Resize([256, 256]), T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)])
    g, e, fan = officialise(model.generator), officialise(model.style_encoder), officialise(model.fan)
    y = torch.tensor([1])
    start = time.perf_counter()
    with torch.no_grad():
        for path in frames:
            x = tf(Image.open(path).convert("RGB"))[None]
            x_ref = tf(Image.open(ref).convert("RGB"))[None]
            masks = fan.masks(x)
            s = e(x_ref, y)
            fake = g(x, s, masks)
            vutils.save_image(((fake + 1) / 2).clamp_(0, 1), out / f"{path.stem}.png", nrow=1, padding=0)
    return time.perf_counter() - start


def engine(model: StarGANv2, frames: list[Path], ref: Path, out: Path, batch_size: int) -> tuple[float, np.ndarray]:
    """Our path: style once; read in a worker thread; batched apply; PNGs encoded by a writer thread."""
    start = time.perf_counter()
    code = model.style(read_image(ref), 1)
    results = []
    with concurrent.futures.ThreadPoolExecutor(1) as writer:
        pending = []
        for path, img in zip(frames, translate_frames(model, code, (read_image(p) for p in frames),
                                                      batch_size=batch_size)):
            results.append(img)
            pending.append(writer.submit(cv2.imwrite, str(out / f"{path.stem}.png"),
                                         cv2.cvtColor(img, cv2.COLOR_RGB2BGR)))
        for f in pending:
            f.result()
    return time.perf_counter() - start, np.stack(results)


def model_only(model: StarGANv2, n: int, batch_size: int) -> float:
    x = torch.rand(batch_size, 3, 256, 256) * 2 - 1
    s = torch.randn(1, 64)
    with model._context():
        xp = model._prepare(x)
        model._translate(xp[:1], s, None)  # warm-up
        start = time.perf_counter()
        done = 0
        while done < n:
            model._translate(xp, s, None)
            done += batch_size
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=4, help="frames per timed run (one is ~108 GFLOP)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--no-channels-last", action="store_true")
    parser.add_argument("--quick", action="store_true", help="2 frames per run")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    n = 2 if args.quick else args.frames
    cl = not args.no_channels_last
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}, {n} frames/run, batch {args.batch_size}, channels_last {cl}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ckpt = tmp / "100000_nets_ema.ckpt"
        t = time.perf_counter()
        write_checkpoint(ckpt)
        frames = make_frames(tmp, n + 1)
        ref = frames.pop()
        fp32 = StarGANv2.from_checkpoint(ckpt, batch_size=args.batch_size, channels_last=cl)
        bf16 = StarGANv2.from_checkpoint(ckpt, dtype=torch.bfloat16, batch_size=args.batch_size, channels_last=cl)
        print(f"setup (random official-layout file {ckpt.stat().st_size / 1e6:.0f} MB, strict load ×2): "
              f"{time.perf_counter() - t:.1f} s")
        for d in ("a", "b32", "b16"):
            (tmp / d).mkdir()

        peak32, peak16 = matmul_peak(torch.float32), matmul_peak(torch.bfloat16)
        print(f"matmul 2048² peak: fp32 {peak32:.0f} GFLOP/s, bf16 {peak16:.0f} GFLOP/s")

        official_loop(fp32, frames[:1], ref, tmp / "a")  # warm-up (oneDNN primitive creation)
        t_a = official_loop(fp32, frames, ref, tmp / "a")
        engine(fp32, frames[:1], ref, tmp / "b32", args.batch_size)
        t_b32, out32 = engine(fp32, frames, ref, tmp / "b32", args.batch_size)
        engine(bf16, frames[:1], ref, tmp / "b16", args.batch_size)
        t_b16, out16 = engine(bf16, frames, ref, tmp / "b16", args.batch_size)
        m32 = model_only(fp32, n, args.batch_size)
        m16 = model_only(bf16, n, args.batch_size)
        official_png = read_image(tmp / "a" / f"{frames[0].stem}.png")
        exact = np.abs(official_png.astype(int) - out32[0]).max()

    fa, fb32, fb16 = n / t_a, n / t_b32, n / t_b16
    print()
    print(f"(a) official-style loop, fp32           : {fa:6.3f} frames/s  "
          f"({2 * (GMAC_FAN + GMAC_G + GMAC_E) * fa:.0f} GFLOP/s incl. the per-frame style encoder)")
    print(f"(b) engine fp32                          : {fb32:6.3f} frames/s   b/a = {fb32 / fa:.2f}  (goal ≥ 4)")
    print(f"(b) engine bf16 autocast                 : {fb16:6.3f} frames/s   b/a = {fb16 / fa:.2f}  (goal ≥ 10)")
    print(f"model only fp32 (FAN + G)                : {m32:6.3f} frames/s = {m32 * GFLOP_FRAME:.0f} GFLOP/s = "
          f"{100 * m32 * GFLOP_FRAME / peak32:.0f}% of the fp32 matmul peak (goal ≥ 80%)")
    print(f"model only bf16 (FAN + G)                : {m16:6.3f} frames/s = {m16 * GFLOP_FRAME:.0f} GFLOP/s = "
          f"{100 * m16 * GFLOP_FRAME / peak16:.0f}% of the bf16 matmul peak (goal ≥ 80%)")
    print(f"bf16 vs fp32 output                      : mean |Δ| {np.abs(out16.astype(int) - out32).mean():.3f} "
          f"uint8 levels, max {np.abs(out16.astype(int) - out32).max()} (goal mean ≤ 2)")
    print(f"engine fp32 vs official loop, frame 1    : max |Δ| {exact} uint8 levels (JPEG decode: PIL vs OpenCV)")


if __name__ == "__main__":
    main()
