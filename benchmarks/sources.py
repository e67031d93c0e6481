"""Frames/s of listing + decoding + cropping source frames, on a demo corpus made in a temporary folder.

Run: ``python benchmarks/sources.py [--quick] [--repeat N]``. Stages are timed side by side in one run:

* list      ``list_videos`` (directory scan, name parsing, first-frame size check)
* decode    every frame decoded with ``sources.iter_video_frames`` (greyscale JPEG → uint8)
* locate    ``locate_face`` once per video (Haar cascade on 25 frames)
* crop      every frame decoded and cropped/resized to 256×256 with the video's one ``FaceCrop``
* total     list + locate + crop: the whole source stage per frame
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small demo corpus, one repeat")
    parser.add_argument("--repeat", type=int, default=3, help="repeats per stage; the best time is kept")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else args.repeat

    from samm_synth_dataset.sources.frames import iter_video_frames
    from samm_synth_dataset.faces import locate_face
    from samm_synth_dataset.sources import list_videos
    from samm_synth_dataset.demo.corpus import make_demo_corpus

    with tempfile.TemporaryDirectory(prefix="bench-sources-") as tmp:
        t0 = time.perf_counter()
        corpus = make_demo_corpus(Path(tmp) / "corpus", seed=0, size="small" if args.quick else "full",
                                  quirks=True)
        print(f"demo corpus ({'small' if args.quick else 'full'}) made in {time.perf_counter() - t0:.1f} s")
        videos = list_videos(corpus.root, "samm-lv")
        n = sum(v.n_frames for v in videos)
        w, h = videos[0].width, videos[0].height
        print(f"{len(videos)} videos, {n} frames of {w}x{h} greyscale JPEG")

        t_list = _best(lambda: list_videos(corpus.root, "samm-lv"), repeat)

        def decode() -> None:
            for v in videos:
                for _ in iter_video_frames(v):
                    pass

        t_decode = _best(decode, repeat)
        crops = {}

        def locate() -> None:
            for v in videos:
                crops[v.video] = locate_face(v)

        t_locate = _best(locate, repeat)

        def crop() -> None:
            for v in videos:
                c = crops[v.video]
                for _, image in iter_video_frames(v):
                    c.apply(image)

        t_crop = _best(crop, repeat)

    t_total = t_list + t_locate + t_crop
    rows = [("list", t_list), ("decode", t_decode), ("locate (per video)", t_locate), ("decode+crop", t_crop),
            ("total (list+locate+crop)", t_total)]
    print(f"\n{'stage':<26}{'seconds':>9}{'frames/s':>12}{'x decode':>10}")
    for name, t in rows:
        print(f"{name:<26}{t:>9.3f}{n / t:>12.0f}{t / t_decode:>10.2f}")
    print(f"\nsource stage throughput: {n / t_total:.0f} frames/s "
          f"(crop adds {100 * (t_crop - t_decode) / t_decode:.0f}% to decoding; "
          f"listing {1e6 * t_list / n:.1f} µs/frame; locate {t_locate / len(videos):.2f} s/video)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
