"""`samm-synth transfer`: the official StarGAN v2 ``sample`` mode (or colour transfer) for one reference and many
sources → PNGs."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from samm_synth_dataset.transfer.engine import METHODS

log = logging.getLogger(__name__)


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "transfer", help="restyle source face images with one reference (StarGAN v2 or colour transfer)",
        description="Translate every --source image with the style of --reference in --domain and write "
                    "<out>/<source stem>.png. StarGAN v2 reads images as the official sample mode does (RGB, "
                    "PIL bilinear resize to the model size, [-1, 1]) and saves clamp((y+1)/2) as 8-bit PNG. "
                    "--method color-transfer needs no weights and changes colour only, not identity.")
    p.add_argument("--method", choices=list(METHODS), default="stargan-v2")
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


def _read_rgb(path: Path) -> "np.ndarray":
    """An image file as the official sample mode reads it: PIL, converted to RGB (uint8 H×W×3)."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def _write_png(path: Path, rgb: "np.ndarray") -> None:
    from samm_synth_dataset import format as fmt
    from samm_synth_dataset.images import encode_image

    fmt.atomic_write_bytes(path, encode_image(rgb, "png"))


def run_transfer(args: argparse.Namespace) -> int:
    import numpy as np
    from tqdm import tqdm

    from samm_synth_dataset.transfer.engine import load_method, method_info
    from samm_synth_dataset.transfer.stargan import resize_official

    stems = [s.stem for s in args.source]
    dupes = sorted({s for s in stems if stems.count(s) > 1})
    if dupes:
        raise ValueError(f"several sources share the name(s) {dupes}; outputs are named after source stems")
    for path in [*args.source, args.reference]:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: image not found")
    if method_info(args.method).weights:
        if args.checkpoint is None:
            raise ValueError(f"--checkpoint is required for --method {args.method} (or use --method "
                             "color-transfer, which needs no weights)")
        if not args.checkpoint.is_file():
            raise FileNotFoundError(f"{args.checkpoint}: checkpoint not found (the official *_nets_ema.ckpt)")
        if args.domain is None:
            raise ValueError(f"--domain is required for --method {args.method}: female or male for the CelebA-HQ "
                             "checkpoint, cat, dog or wild for AFHQ, or a domain index")
    args.out.mkdir(parents=True, exist_ok=True)

    method = load_method(args.method, args.checkpoint, args.fan_checkpoint, device=args.device, dtype=args.dtype,
                         batch_size=args.batch_size, image_size=args.size)
    domain = method.domain_index(args.domain if args.domain is not None else 0)
    style = method.style(_read_rgb(args.reference), domain)
    with tqdm(total=len(args.source), desc=args.method, unit="img") as bar:
        for start in range(0, len(args.source), method.batch_size):
            chunk = args.source[start:start + method.batch_size]
            frames = np.stack([resize_official(_read_rgb(p), method.image_size) for p in chunk])
            for path, image in zip(chunk, method.apply(frames, style)):
                _write_png(args.out / f"{path.stem}.png", image)
            bar.update(len(chunk))
    weights = (f"checkpoint sha256 {method.checkpoint_sha256[:12]}…" if method.checkpoint_sha256
               else "no weights: colour only, identity unchanged")
    print(f"wrote {len(args.source)} PNGs to {args.out} ({args.method}, domain {domain}, {weights})")
    return 0
