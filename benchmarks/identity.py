"""Benchmark the identity measure: faces per second of ``FaceDescriber.describe`` (HOG detection, 5-point
alignment, dlib ResNet 128-D descriptor) on real face images, at the release's 256² and 128² crops and on the
full images, and the projection for a whole SAMM-LV build.

    python benchmarks/identity.py [--quick]

Faces: matplotlib's grace_hopper.jpg (always there) and, when ``../shared/data/faces`` exists beside the checkout,
single_face.jpg, 0-f1-su-ph.jpg and frames of single_face.mp4. Numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

SHARED_FACES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "faces"


def real_faces() -> dict[str, np.ndarray]:
    """Full-size RGB face images by name."""
    from matplotlib import cbook

    paths = {"grace_hopper.jpg": Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))}
    for name in ("single_face.jpg", "0-f1-su-ph.jpg"):
        if (SHARED_FACES / name).is_file():
            paths[name] = SHARED_FACES / name
    out = {name: cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for name, p in paths.items()}
    video = SHARED_FACES / "single_face.mp4"
    if video.is_file():
        cap = cv2.VideoCapture(str(video))
        for i in range(0, 72, 24):
            cap.set(cv2.CAP_PROP_POS_FRAMES, i)
            ok, bgr = cap.read()
            if ok:
                out[f"single_face.mp4#{i}"] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        cap.release()
    return out


def face_crop(image: np.ndarray, size: int, margin: float = 1.4) -> np.ndarray:
    """A square crop ``margin`` × the detected face box around its centre, resized to ``size``² (as a build's)."""
    import dlib

    boxes = dlib.get_frontal_face_detector()(image, 1)
    b = max(boxes, key=lambda r: r.width() * r.height())
    cx, cy = (b.left() + b.right()) / 2, (b.top() + b.bottom()) / 2
    half = margin * max(b.width(), b.height()) / 2
    y0, y1 = max(0, int(cy - half)), min(image.shape[0], int(cy + half))
    x0, x1 = max(0, int(cx - half)), min(image.shape[1], int(cx + half))
    return cv2.resize(image[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA)


def rate(describer, images: list[np.ndarray], repeats: int) -> tuple[float, int]:
    """(faces per second, faces found) over ``repeats`` passes over ``images``."""
    describer.describe(images[0])
    found = 0
    t = time.perf_counter()
    for _ in range(repeats):
        for img in images:
            found += describer.describe(img) is not None
    return repeats * len(images) / (time.perf_counter() - t), found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="one pass over the faces instead of five")
    args = ap.parse_args()
    repeats = 1 if args.quick else 5

    from samm_synth_dataset.identity import descriptor as I

    t = time.perf_counter()
    describer = I.FaceDescriber()
    print(f"models loaded in {time.perf_counter() - t:.2f} s (cv2 threads {cv2.getNumThreads()})")
    faces = real_faces()
    print(f"{len(faces)} real face images: {', '.join(faces)}")
    rates = {}
    for label, images in (("256² crops", [face_crop(f, 256) for f in faces.values()]),
                          ("128² crops", [face_crop(f, 128) for f in faces.values()]),
                          ("full images", list(faces.values()))):
        r, found = rate(describer, images, repeats)
        rates[label] = r
        print(f"describe on {label}: {r:.1f} faces/s ({1000 / r:.0f} ms/face); faces found {found} of "
              f"{repeats * len(images)}")

    n, videos = I.DEFAULT_SAMPLES, 147
    per_video = 2 * n + 1  # original and synthetic frames, plus the reference
    for label in ("256² crops",):
        s = videos * per_video / rates[label]
        print(f"projection, SAMM-LV (147 videos × {n} sampled frames × original+synthetic + reference, {label}): "
              f"{videos * per_video} faces, {s:.0f} s on one process ({s / 60:.1f} min); originals shared by "
              f"several references are described once when cached")


if __name__ == "__main__":
    main()
