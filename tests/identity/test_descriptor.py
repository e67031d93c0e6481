"""Identity change per synthetic video, on real faces (``../shared/data/faces`` and matplotlib's grace_hopper.jpg)
with the real dlib models."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from samm_synth_dataset.identity import descriptor as I, figures as R


def _video_frames(path: Path, positions: list[int]) -> dict[int, np.ndarray]:
    """RGB frames at 0-based ``positions`` of a video file."""
    cap = cv2.VideoCapture(str(path))
    out = {}
    try:
        for p in positions:
            cap.set(cv2.CAP_PROP_POS_FRAMES, p)
            ok, bgr = cap.read()
            assert ok, f"{path}: cannot read frame {p}"
            out[p] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()
    return out


def _image(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path))
    assert bgr is not None, f"{path}: cannot read"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def describer() -> I.FaceDescriber:
    try:
        return I.FaceDescriber()
    except I.IdentityUnavailable as exc:
        pytest.skip(f"identity models unavailable: {exc.reason}")


@pytest.fixture(scope="module")
def faces(shared_data: Path) -> dict[str, object]:
    """Frames 0, 35 and 70 of single_face.mp4, frame 40 of no_face.mp4, single_face.jpg and grace_hopper.jpg."""
    from matplotlib import cbook

    d = shared_data / "faces"
    return {"video": _video_frames(d / "single_face.mp4", [0, 35, 70]),
            "no_face": _video_frames(d / "no_face.mp4", [40])[40],
            "single": _image(d / "single_face.jpg"),
            "grace": _image(Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))}


def _crop(image: np.ndarray, describer: I.FaceDescriber, size: int, margin: float = 1.4) -> np.ndarray:
    """A square crop around the face (found with dlib's detector on the full image), resized to ``size``²."""
    import dlib

    box = max(dlib.get_frontal_face_detector()(image, 1), key=lambda b: b.width() * b.height())
    cx, cy = (box.left() + box.right()) / 2, (box.top() + box.bottom()) / 2
    half = margin * max(box.width(), box.height()) / 2
    y0, y1 = max(0, int(cy - half)), min(image.shape[0], int(cy + half))
    x0, x1 = max(0, int(cx - half)), min(image.shape[1], int(cx + half))
    return cv2.resize(image[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA)


def test_sample_positions() -> None:
    p = I.sample_positions(100, 25)
    assert len(p) == 25 and p[0] == 0 and p[-1] == 99
    assert np.all(np.diff(p) >= 1) and set(np.diff(p)) <= {4, 5}
    assert np.array_equal(I.sample_positions(100, 25), p)
    assert np.array_equal(I.sample_positions(7, 25), np.arange(7))
    p26 = I.sample_positions(26, 25)
    assert len(set(p26)) == 25 and p26[0] == 0 and p26[-1] == 25
    assert list(I.sample_positions(11, 2)) == [0, 10]
    assert list(I.sample_positions(11, 1)) == [5]
    assert len(I.sample_positions(0, 25)) == 0
    with pytest.raises(ValueError, match="at least 1"):
        I.sample_positions(10, 0)


def test_same_person_across_frames_within_threshold(describer, faces) -> None:
    d = [describer.describe(img) for img in faces["video"].values()]
    assert all(x is not None and x.shape == (128,) for x in d)
    for i in range(len(d)):
        for j in range(i + 1, len(d)):
            assert I.distance(d[i], d[j]) < I.DEFAULT_THRESHOLD
    # the same face in the small square crops the releases hold (256² and 128²) is still found and still the person
    for size in (256, 128):
        c = describer.describe(_crop(faces["video"][0], describer, size))
        assert c is not None, f"no face found in a {size}² crop"
        assert I.distance(c, d[0]) < I.DEFAULT_THRESHOLD


def test_different_people_beyond_threshold(describer, faces) -> None:
    a, b = describer.describe(faces["single"]), describer.describe(faces["grace"])
    assert a is not None and b is not None
    assert I.distance(a, b) > I.DEFAULT_THRESHOLD
    assert I.distance(describer.describe(faces["video"][35]), b) > I.DEFAULT_THRESHOLD


def test_no_face_is_counted_and_named(describer, faces) -> None:
    assert describer.describe(faces["no_face"]) is None
    assert describer.describe(np.zeros((256, 256, 3), np.uint8)) is None
    v = faces["video"]
    triples = [(101, v[0], v[0]), (102, v[35], faces["no_face"]), (103, faces["no_face"], v[70])]
    r = I.measure_video("x_1-ref01", triples, faces["single"], describer)
    assert r.no_face_synthetic == (102,) and r.no_face_original == (103,)
    assert r.synthetic_to_original[1] is None and r.synthetic_to_original[2] is None
    assert r.synthetic_to_reference[1] is None and r.original_to_reference[2] is None
    assert r.n_sampled == 3 and r.n_pairs == 1 and r.recognisable_share == 1.0
    t = I.identity_table([r])
    assert t.loc[0, "no_face_synthetic"] == "102" and t.loc[0, "no_face_original"] == "103"


def test_copy_of_original_is_fully_recognisable(describer, faces) -> None:
    v = faces["video"]
    r = I.measure_video("copy", [(f + 1, img, img.copy()) for f, img in v.items()], faces["grace"], describer)
    assert r.recognisable_share == 1.0 and r.verdict() == "recognisable"
    assert r.median_synthetic_original == pytest.approx(0.0, abs=1e-9)
    assert r.median_synthetic_reference > I.DEFAULT_THRESHOLD
    assert r.median_original_reference > I.DEFAULT_THRESHOLD
    assert r.no_face_original == () and r.no_face_synthetic == () and r.reference_found
    # an original's descriptors, described once, serve every synthetic video made from it
    desc = I.describe_frames([(f + 1, img) for f, img in v.items()], describer)
    again = I.identity_from_descriptors("copy", list(desc), desc, desc, describer.describe(faces["grace"]))
    assert again == r
    with pytest.raises(ValueError, match="frame 1 is given twice"):
        I.describe_frames([(1, v[0]), (1, v[0])], describer)
    with pytest.raises(KeyError, match="no synthetic descriptor for frames \\[36\\]"):
        I.identity_from_descriptors("copy", [1, 36], desc, {1: desc[1]}, None)


def test_other_persons_face_is_flagged_changed(describer, faces) -> None:
    v, g = faces["video"], faces["grace"]
    # the "synthetic" frames are grace_hopper recoloured and shifted a little per frame: another person
    synth = [np.ascontiguousarray(np.roll(g, 3 * i, axis=1)[:, :, ::-1] if i % 2 else np.roll(g, 3 * i, axis=0))
             for i in range(len(v))]
    triples = [(f + 1, o, s) for (f, o), s in zip(v.items(), synth)]
    r = I.measure_video("other", triples, g, describer)
    assert r.n_pairs == 3
    assert r.recognisable_share == 0.0 and r.verdict() == "changed"
    assert r.median_synthetic_original > I.DEFAULT_THRESHOLD
    assert r.median_synthetic_reference < I.DEFAULT_THRESHOLD  # the synthetic face is the reference's person


def test_no_pairs_refuses_medians_and_verdict() -> None:
    r = I.VideoIdentity(video="v", frames=(1, 2), synthetic_to_original=(None, None),
                        synthetic_to_reference=(None, None), original_to_reference=(0.7, 0.8),
                        no_face_original=(), no_face_synthetic=(1, 2), reference_found=True)
    assert r.median_synthetic_original is None and r.median_synthetic_reference is None
    assert r.recognisable_share is None and r.verdict() == "unmeasured"
    assert r.median_original_reference == pytest.approx(0.75)


def test_threshold_and_dict_round_trip() -> None:
    r = I.VideoIdentity(video="v", frames=(5, 10, 15), synthetic_to_original=(0.3, 0.55, None),
                        synthetic_to_reference=(0.8, 0.9, None), original_to_reference=(0.85, 0.9, 0.95),
                        no_face_original=(), no_face_synthetic=(15,), reference_found=True)
    assert r.recognisable_share == 1.0 and r.verdict() == "recognisable"
    r5 = r.with_threshold(0.5)
    assert r5.threshold == 0.5 and r5.recognisable_share == 0.5 and r5.verdict() == "mixed"
    d = json.loads(json.dumps(r5.to_dict()))
    assert d["threshold"] == 0.5 and d["verdict"] == "mixed" and d["median_synthetic_original"] == pytest.approx(0.425)
    assert I.VideoIdentity.from_dict(d) == r5
    del d["frames"]
    with pytest.raises(ValueError, match="frames is missing"):
        I.VideoIdentity.from_dict(d)
    with pytest.raises(ValueError, match="2 values for 3 frames"):
        I.VideoIdentity(video="v", frames=(1, 2, 3), synthetic_to_original=(0.1, 0.2), synthetic_to_reference=(),
                        original_to_reference=(), no_face_original=(), no_face_synthetic=(), reference_found=False)


def test_figures(faces) -> None:
    a = I.VideoIdentity(video="a", frames=(1, 2), synthetic_to_original=(0.1, 0.2), synthetic_to_reference=(0.8, 0.9),
                        original_to_reference=(0.85, 0.9), no_face_original=(), no_face_synthetic=(),
                        reference_found=True)
    b = I.VideoIdentity(video="b", frames=(1, 2), synthetic_to_original=(0.9, 0.7), synthetic_to_reference=(0.3, 0.4),
                        original_to_reference=(0.85, 0.9), no_face_original=(), no_face_synthetic=(),
                        reference_found=True)
    c = I.VideoIdentity(video="c", frames=(1,), synthetic_to_original=(None,), synthetic_to_reference=(None,),
                        original_to_reference=(None,), no_face_original=(1,), no_face_synthetic=(1,),
                        reference_found=True)
    fig = R.plot_identity_scatter([a, b, c], {"a": "colour", "b": "stargan"})
    ax = fig.axes[0]
    assert len(ax.collections) == 2 and "1 video(s) left out" in ax.get_title()
    assert I.most_and_least_changed([a, b, c]) == (b, a)
    o = faces["video"][0]
    strip = R.strip_image(o, faces["grace"], faces["single"], height=100)
    assert strip.shape[0] == 100 and strip.dtype == np.uint8
    widths = [round(img.shape[1] * 100 / img.shape[0]) for img in (o, faces["grace"], faces["single"])]
    assert strip.shape[1] == sum(widths) + 8
    assert np.all(strip[:, widths[0]:widths[0] + 4] == 255)
    fig2 = R.plot_strips([(b, 2, o, faces["grace"], faces["grace"]), (a, 1, o, o, faces["single"])])
    assert len(fig2.axes) == 6 and "0.70" in fig2.axes[1].get_xlabel()


def test_missing_dlib_is_a_clear_skip_reason(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "dlib", None)  # what Python does when a module cannot be imported
    with pytest.raises(I.IdentityUnavailable, match="pip install dlib-bin") as exc:
        I.FaceDescriber()
    assert "dlib" in exc.value.reason


def test_bad_image_names_it(describer) -> None:
    with pytest.raises(ValueError, match="video v synthetic frame 7: image must be uint8"):
        describer.describe(np.zeros((64, 64, 3), np.float32), where="video v synthetic frame 7")
