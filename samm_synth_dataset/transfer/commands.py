"""`samm-synth transfer`: the official StarGAN v2 ``sample`` mode for one reference and many sources → PNGs."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "transfer", help="restyle source face images with one reference (StarGAN v2 or colour transfer)",
        description="Translate every --source image with the style of --reference in --domain and write "
                    "<out>/<source stem>.png. StarGAN v2 reads images as the official sample mode does (RGB, "
                    "PIL bilinear resize to the model size, [-1, 1]) and saves clamp((y+1)/2) as 8-bit PNG. "
                    "--method color-transfer needs no weights and changes colour only, not identity.")
    p.add_argument("--method", choices=("stargan-v2", "color-transfer"), default="stargan-v2")
    p.add_argument("--checkpoint", type=Path, help="official *_nets_ema.ckpt (stargan-v2)")
    p.add_argument("--fan-checkpoint", type=Path, help="official wing.ckpt, when the checkpoint has no 'fan' entry")
    p.add_argument("--source", type=Path, nargs="+", required=True, help="source face images")
    p.add_argument("--reference", type=Path, required=True, help="reference face image")
    p.add_argument("--domain", default=None, help="target domain, required for stargan-v2: female|male "
                                                    "(CelebA-HQ), cat|dog|wild (AFHQ) or an index")
    p.add_argument("--out", type=Path, required=True, help="output folder (created)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, … (default cpu)")
    p.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default=None,
                   help="compute precision (default float32 on CPU = official outputs; bfloat16 on CUDA)")
    p.add_argument("--batch-size", type=int, default=None, help="frames per model call (default 1 on CPU, 16 on CUDA)")
    p.add_argument("--size", type=int, default=256, help="frame size for color-transfer (default 256)")
    p.set_defaults(func=run_transfer)


def _write_png(path: Path, rgb) -> None:
    from samm_synth_dataset.format import atomic_write_bytes
    from samm_synth_dataset.images import encode_image

    atomic_write_bytes(path, encode_image(rgb, "png"))


def run_transfer(args: argparse.Namespace) -> int:
    import numpy as np
    from tqdm import tqdm

    from samm_synth_dataset.transfer.engine import load_method

    stems = [s.stem for s in args.source]
    dupes = sorted({s for s in stems if stems.count(s) > 1})
    if dupes:
        raise ValueError(f"several sources share the name(s) {dupes}; outputs are named after source stems")
    for path in [*args.source, args.reference]:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: image not found")
    args.out.mkdir(parents=True, exist_ok=True)

    if args.method == "color-transfer":
        from samm_synth_dataset.sources.frames import read_image, to_rgb
        from samm_synth_dataset.transfer.stargan import resize_official

        method = load_method("color-transfer", checkpoint=args.checkpoint, image_size=args.size)
        domain = args.domain or "0"  # colour transfer has no domains
        style = method.style(to_rgb(read_image(args.reference)), int(domain) if domain.isdigit() else 0)
        for src in tqdm(args.source, desc="color-transfer", unit="img"):
            frame = resize_official(to_rgb(read_image(src)), args.size)
            _write_png(args.out / f"{src.stem}.png", method.apply(frame[None], style)[0])
        print(f"wrote {len(args.source)} PNGs to {args.out} (colour transfer: colour only, identity unchanged)")
        return 0

    if args.checkpoint is None:
        raise ValueError("--checkpoint is required for --method stargan-v2 (or use --method color-transfer)")
    if not args.checkpoint.is_file():
        raise FileNotFoundError(f"{args.checkpoint}: checkpoint not found (the official *_nets_ema.ckpt)")
    if args.domain is None:
        raise ValueError("--domain is required for --method stargan-v2: female or male for the CelebA-HQ "
                         "checkpoint, cat, dog or wild for AFHQ, or a domain index")
    import torch

    from samm_synth_dataset.transfer.stargan import domain_index, load_image, tensor_to_images

    model = load_method("stargan-v2", args.checkpoint, args.fan_checkpoint, device=args.device, dtype=args.dtype,
                        batch_size=args.batch_size)
    y = domain_index(args.domain, model.num_domains)
    s = model.style_from_reference(load_image(args.reference, model.img_size), y)
    with tqdm(total=len(args.source), desc="stargan-v2", unit="img") as bar:
        for start in range(0, len(args.source), model.batch_size):
            chunk = args.source[start:start + model.batch_size]
            x = torch.cat([load_image(p, model.img_size) for p in chunk])
            for path, img in zip(chunk, tensor_to_images(model.translate(x, s))):
                _write_png(args.out / f"{path.stem}.png", np.ascontiguousarray(img))
            bar.update(len(chunk))
    print(f"wrote {len(args.source)} PNGs to {args.out} (StarGAN v2, domain {y}, "
          f"checkpoint sha256 {model.checkpoint_sha256[:12]}…)")
    return 0
