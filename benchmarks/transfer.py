"""StarGAN v2 transfer throughput on this machine, full CelebA-HQ architecture (256², w_hpf 1) with random
weights saved in the official checkpoint layout and loaded with ``StarGANv2.from_checkpoint``.

Measured side by side in interleaved rounds of one run, the best of each counting (frames/s; one frame = FAN
8.73 + generator 45.37 GMAC = 108.2 GFLOP):
  (a) an official-style loop: per image PIL open, bilinear resize, ToTensor/Normalize, FAN masks, style encoder
      on the reference, generator, clamp, save_image PNG (fp32, NCHW, batch 1, as clovaai/stargan-v2 does);
  (b) our engine on the same frames: style once per video (timed separately), frames read in a worker thread,
      batched, channels_last, inference_mode, PNG written by a writer thread — fp32 (exact) and the bf16 option;
  model-only throughput (FAN + generator on the same frames, already tensors in memory) and achieved GFLOP/s against a 2048²
  matmul peak measured in the same run, per dtype — nominal (the official op count, 108.2 GFLOP/frame) and
  executed (our fused upsample-conv does 18.6 GFLOP less); and the bf16 outputs' mean |uint8 difference|.
  CPU time is printed too: on a busy shared machine, --threads 1 and frames per CPU-second give stable ratios.

    .venv/bin/python benchmarks/transfer.py [--frames 4] [--batch-size B] [--threads N] [--quick]

On a GPU (``--device cuda``): frames/s of the model (FAN + generator on tensors already on the device) for
fp32 / bf16 / fp16 × batch sizes, model FLOP utilisation against a same-dtype cuBLAS matmul peak measured in the
same run, and the engine end to end (uint8 frames in host memory → uint8 frames back) at the largest batch.
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
from samm_synth_dataset.transfer.model import (AdaIN, AdainResBlk, Generator, InstanceNorm, MappingNetwork,
                                               StyleEncoder)

GMAC_FAN, GMAC_G, GMAC_E = 8.73, 45.37, 16.56  # spec §7
GFLOP_FRAME = 2 * (GMAC_FAN + GMAC_G)  # nominal: the official op sequence
# The engine's fused nearest-up2 + conv3×3 (decode.2-6 conv1, (Cin, Cout, input size)) runs 16·(H+1)² instead of
# 36·H² MACs per (Cin, Cout) pair.
UPSAMPLE_CONVS = ((512, 512, 8), (512, 512, 16), (512, 256, 32), (256, 128, 64), (128, 64, 128))
GFLOP_SAVED = 2 * sum(ci * co * (36 * h * h - 16 * (h + 1) ** 2) for ci, co, h in UPSAMPLE_CONVS) / 1e9
GFLOP_EXECUTED = GFLOP_FRAME - GFLOP_SAVED


class Clock:
    """Wall and process-CPU seconds of a block (CPU time is less disturbed by other users of a shared machine;
    with --threads 1 frames per CPU-second is a load-robust efficiency figure)."""

    def __enter__(self) -> "Clock":
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def matmul_peak(dtype: torch.dtype, n: int = 2048, reps: int = 10) -> float:
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


def official_preprocess(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The official mask preprocessing step by step over all 98 channels (spec §1.9; H = 256)."""
    def shift(t: torch.Tensor, k: int) -> torch.Tensor:  # content moves k rows up
        return torch.roll(t, -k, dims=2)

    x = x.clone()
    x[x < 0.1] = 0
    n, c = x.shape[:2]
    flat = x.reshape(n, c, -1)
    lo, hi = flat.min(2, keepdim=True).values, flat.max(2, keepdim=True).values
    x = ((flat - lo) / (hi - lo + 1e-6)).reshape(x.shape)
    for start, end, k, p in [(8, 25, 0, 3), (33, 51, -7, 2), (55, 60, 8, 4), (77, 82, -8, 4), (83, 88, 8, 4),
                             (88, 96, -2, 3)]:
        x[:, start:end] = shift(x[:, start:end], k) ** p
    x[:, [*range(0, 8), *range(25, 33), 33, 46, 76, 82]] = 0
    x[:, 52:55] = shift(x[:, 52:55], 4)
    x[:, 60:76] = shift(x[:, 60:76], -8) ** 3 + shift(x[:, 60:76], -24)
    x2 = x.clone()
    x2[:, 8:25] = 0
    x2[:, 76:96] = 0
    x2[:, 33:51] = 0
    return x.sum(1, keepdim=True).clamp(0, 1), x2.sum(1, keepdim=True).clamp(0, 1)


def officialise(module: torch.nn.Module) -> torch.nn.Module:
    """A copy of our network computed with the official building blocks (torch InstanceNorm2d, AdaIN as
    written in clovaai/stargan-v2, upsample then conv), NCHW. Same weights, same function."""
    module = copy.deepcopy(module).to(memory_format=torch.contiguous_format)
    for m in module.modules():
        if isinstance(m, InstanceNorm):
            m.__class__ = torch.nn.InstanceNorm2d
        elif isinstance(m, AdaIN):
            m.__class__ = OfficialAdaIN
        elif isinstance(m, AdainResBlk):
            m.fused_upsample = False  # nearest ×2 then conv3×3, as written
    return module


def official_loop(model: StarGANv2, frames: list[Path], ref: Path, out: Path) -> Clock:
    """The clovaai pattern, per image: fp32, NCHW, batch 1, style encoder every time, save_image."""
    from PIL import Image
    import torchvision.transforms as T
    import torchvision.utils as vutils

    tf = T.Compose([T.Resize([256, 256]), T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)])
    g, e, fan = officialise(model.generator), officialise(model.style_encoder), officialise(model.fan)
    y = torch.tensor([1])
    with Clock() as clock, torch.no_grad():
        for path in frames:
            x = tf(Image.open(path).convert("RGB"))[None]
            x_ref = tf(Image.open(ref).convert("RGB"))[None]
            masks = official_preprocess(fan.heatmaps(x))
            s = e(x_ref, y)
            fake = g(x, s, masks)
            vutils.save_image(((fake + 1) / 2).clamp_(0, 1), out / f"{path.stem}.png", nrow=1, padding=0)
    return clock


def engine(model: StarGANv2, code: object, frames: list[Path], out: Path) -> tuple[Clock, np.ndarray]:
    """Our path for one video's frames: the style code made once beforehand (once per video, thousands of
    frames: its cost is printed separately); frames read in a worker thread; batched apply; PNGs encoded by a
    writer thread."""
    results = []
    with Clock() as clock, concurrent.futures.ThreadPoolExecutor(1) as writer:
        pending = []
        for path, img in zip(frames, translate_frames(model, code, (read_image(p) for p in frames),
                                                                batch_size=model.batch_size)):
            results.append(img)
            pending.append(writer.submit(cv2.imwrite, str(out / f"{path.stem}.png"),
                                         cv2.cvtColor(img, cv2.COLOR_RGB2BGR)))
        for f in pending:
            f.result()
    return clock, np.stack(results)


def model_only(model: StarGANv2, frames: list[Path], n: int) -> tuple[Clock, int]:
    """FAN masks + generator on the same frames as the engine, already tensors in memory, ``model.batch_size``
    frames per call."""
    from samm_synth_dataset.transfer.stargan import images_to_tensor

    x = images_to_tensor(np.stack([np.repeat(read_image(p)[:, :, None], 3, axis=2) for p in frames]))
    s = torch.randn(1, 64)
    with model._context():
        xp = model._prepare(x)
        batches = [xp[i:i + model.batch_size] for i in range(0, len(xp), model.batch_size)]
        model._translate(batches[0], s, None)  # warm-up
        done = 0
        with Clock() as clock:
            while done < n:
                for b in batches:
                    model._translate(b, s, None)
                    done += len(b)
    return clock, done


def cuda_matmul_peak(dtype: torch.dtype, n: int = 8192, reps: int = 10) -> float:
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    a @ b
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        a @ b
    end.record()
    torch.cuda.synchronize()
    return 2 * n ** 3 * reps / (start.elapsed_time(end) / 1e3) / 1e9


def cuda_model_fps(model: StarGANv2, batch: int, reps: int) -> float:
    x = torch.rand(batch, 3, 256, 256, device="cuda") * 2 - 1
    s = torch.randn(1, 64, device="cuda")
    with model._context():
        xp = model._prepare(x)
        for _ in range(2):
            model._translate(xp, s, None)  # warm-up (cuDNN autotuning)
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(reps):
            model._translate(xp, s, None)
        end.record()
        torch.cuda.synchronize()
    return batch * reps / (start.elapsed_time(end) / 1e3)


def cuda_main(args: argparse.Namespace) -> None:
    """The GPU table: dtype × batch model-only frames/s and utilisation, then the engine end to end."""
    from samm_synth_dataset.transfer.base import StyleCode

    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32 (the official outputs)
    torch.backends.cudnn.allow_tf32 = False
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}")
    batches = [1, 8, 32] if args.quick else [1, 8, 32, 64]
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Path(tmp) / "100000_nets_ema.ckpt"
        write_checkpoint(ckpt)
        rows = []
        for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16), ("fp16", torch.float16)):
            peak = cuda_matmul_peak(dtype)
            for batch in batches:
                model = StarGANv2.from_checkpoint(ckpt, device="cuda", dtype=dtype, batch_size=batch)
                fps = cuda_model_fps(model, batch, reps=max(2, 256 // batch))
                rows.append((name, batch, fps, peak))
                print(f"model only {name} batch {batch:3d}: {fps:8.1f} frames/s, {fps * GFLOP_FRAME / 1e3:6.1f} "
                      f"nominal TFLOP/s = {100 * fps * GFLOP_FRAME / peak:5.1f}% of the {name} matmul peak "
                      f"({peak / 1e3:.0f} TFLOP/s); executed {100 * fps * GFLOP_EXECUTED / peak:5.1f}%", flush=True)
                del model
                torch.cuda.empty_cache()
        best = max(rows, key=lambda r: r[2])
        name, batch = best[0], best[1]
        model = StarGANv2.from_checkpoint(ckpt, device="cuda", dtype=getattr(torch, {"fp32": "float32",
                                          "bf16": "bfloat16", "fp16": "float16"}[name]), batch_size=batch)
        rng = np.random.default_rng(0)
        frames = [rng.integers(0, 256, (256, 256, 3), dtype=np.uint8) for _ in range(8 * batch)]
        code = StyleCode(model.name, 1, np.zeros(model.style_dim, dtype=np.float32))
        for _ in translate_frames(model, code, frames[:batch], batch_size=batch):
            pass
        torch.cuda.synchronize()
        with Clock() as clock:
            n = sum(1 for _ in translate_frames(model, code, frames, batch_size=batch))
        print(f"engine end to end ({name}, batch {batch}, uint8 host frames in and out): {n / clock.wall:.1f} "
              f"frames/s = {100 * n / clock.wall / best[2]:.0f}% of model-only")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=4, help="frames per timed run (one is ~108 GFLOP)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best of each measurement "
                        "counts (this machine's speed drifts by tens of percent within a minute)")
    parser.add_argument("--batch-size", type=int, default=None, help="frames per model call (default: the "
                        "engine's CPU default, 1)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--no-channels-last", action="store_true")
    parser.add_argument("--quick", action="store_true", help="2 frames per run, 2 rounds")
    parser.add_argument("--bf16-masks", action="store_true", help="run the FAN in bf16 too (fp32_masks=False)")
    parser.add_argument("--device", default="cpu", help="cpu (default: the side-by-side CPU figures) or cuda "
                        "(the GPU dtype × batch table)")
    args = parser.parse_args()
    if args.device.startswith("cuda"):
        cuda_main(args)
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    n, rounds = (2, 2) if args.quick else (args.frames, args.rounds)
    cl = not args.no_channels_last
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}, {n} frames/run, {rounds} interleaved rounds (best counts), "
          f"channels_last {cl}")
    best: dict[str, float] = {}

    def keep(name: str, value: float) -> None:
        best[name] = max(best.get(name, 0.0), value)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ckpt = tmp / "100000_nets_ema.ckpt"
        t = time.perf_counter()
        write_checkpoint(ckpt)
        frames = make_frames(tmp, n + 1)
        ref = frames.pop()
        fp32 = StarGANv2.from_checkpoint(ckpt, batch_size=args.batch_size, channels_last=cl)
        bf16 = StarGANv2.from_checkpoint(ckpt, dtype=torch.bfloat16, batch_size=args.batch_size, channels_last=cl,
                                         fp32_masks=not args.bf16_masks)
        print(f"setup (random official-layout file {ckpt.stat().st_size / 1e6:.0f} MB, strict load ×2): "
              f"{time.perf_counter() - t:.1f} s")
        for d in ("a", "b32", "b16"):
            (tmp / d).mkdir()
        with Clock() as style_clock:
            code32 = fp32.style(read_image(ref), 1)
        code16 = bf16.style(read_image(ref), 1)
        official_loop(fp32, frames[:1], ref, tmp / "a")  # warm-ups (oneDNN primitive creation)
        engine(fp32, code32, frames[:1], tmp / "b32")
        engine(bf16, code16, frames[:1], tmp / "b16")
        for r in range(rounds):
            keep("peak32", matmul_peak(torch.float32))
            keep("peak16", matmul_peak(torch.bfloat16))
            keep("a", n / official_loop(fp32, frames, ref, tmp / "a").wall)
            clock, out32 = engine(fp32, code32, frames, tmp / "b32")
            keep("b32", n / clock.wall)
            clock, out16 = engine(bf16, code16, frames, tmp / "b16")
            keep("b16", n / clock.wall)
            for name, model in (("m32", fp32), ("m16", bf16)):
                clock, count = model_only(model, frames, n)
                keep(name, count / clock.wall)
            print(f"  round {r + 1}: " + ", ".join(f"{k} {v:.3g}" for k, v in best.items()), flush=True)
        official_png = read_image(tmp / "a" / f"{frames[0].stem}.png")
        exact = np.abs(official_png.astype(int) - out32[0]).max()

    fa = best["a"]
    diff = np.abs(out16.astype(int) - out32)
    print()
    print(f"matmul 2048² peak (best): fp32 {best['peak32']:.0f} GFLOP/s, bf16 {best['peak16']:.0f} GFLOP/s")
    print(f"style code (style encoder, fp32), once per video: {style_clock.wall:.2f} s")
    print("                                           frames/s (wall, best round)")
    print(f"(a) official-style loop, fp32            : {fa:7.3f}")
    for label, key, goal in (("fp32          ", "b32", 4), ("bf16          ", "b16", 10)):
        print(f"(b) engine {label}                : {best[key]:7.3f}  b/a {best[key] / fa:5.2f}   (goal b/a ≥ {goal})")
    for label, key, peak, bs in (("fp32", "m32", best["peak32"], fp32.batch_size),
                                 ("bf16", "m16", best["peak16"], bf16.batch_size)):
        fps = best[key]
        print(f"model only {label} (FAN + G), batch {bs:<3}     : {fps:7.3f} frames/s = "
              f"{fps * GFLOP_FRAME:.0f} nominal GFLOP/s ({100 * fps * GFLOP_FRAME / peak:.0f}% of the {label} "
              "matmul peak; goal ≥ 80%), "
              f"{fps * GFLOP_EXECUTED:.0f} executed GFLOP/s ({100 * fps * GFLOP_EXECUTED / peak:.0f}%)")
    if bf16.fp32_masks:
        print("    (bf16 mode keeps the FAN, 16% of the work, in fp32 for mask fidelity: fp32_masks=True; "
              "see --bf16-masks; on CPU the generator runs natively in bf16)")
    print(f"bf16 vs fp32 output                       : mean |Δ| {diff.mean():.3f} uint8 levels, max {diff.max()}, "
          f"{100 * (diff > 2).mean():.2f}% of values off by > 2 (goal mean ≤ 2)")
    print(f"engine fp32 vs official loop, frame 1     : max |Δ| {exact} uint8 levels "
          "(PIL vs OpenCV JPEG decode may differ slightly)")
    print(f"work per frame: official loop {2 * (GMAC_FAN + GMAC_G + GMAC_E):.1f} GFLOP (FAN + style encoder + G); "
          f"engine {GFLOP_FRAME:.1f} GFLOP nominal (style encoder once per reference), {GFLOP_EXECUTED:.1f} executed "
          "(fused upsample-conv)")


if __name__ == "__main__":
    main()
