"""Flow features (the ``default`` recipe) on a tiny synthetic moving pattern."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from samm_synth_dataset.spotting import features as FT

SIZE = 128
PARAMS = FT.FeatureParams(flow_size=64, input_size=12)


def texture(seed: int, size: int = SIZE * 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, (size, size)).astype(np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 2.0)


def mouth_moving_video(n: int = 16, start: int = 6, steps: int = 4) -> list[np.ndarray]:
    """Static textured face; the mouth box's texture slides 2 px right per frame for frames start..start+steps."""
    base = texture(0)[:SIZE, :SIZE]
    mouth = texture(1)
    y0, y1, x0, x1 = int(0.66 * SIZE), int(0.8 * SIZE), int(0.3 * SIZE), int(0.7 * SIZE)
    frames = []
    for t in range(n):
        shift = 2 * int(np.clip(t - start, 0, steps))
        f = base.copy()
        f[y0:y1, x0:x1] = mouth[y0:y1, x0 + 40 - shift:x1 + 40 - shift]
        frames.append(cv2.cvtColor(f, cv2.COLOR_GRAY2RGB))
    return frames


def test_flow_larger_in_the_moving_span() -> None:
    k = 2
    feats = FT.flow_features(mouth_moving_video(), k)  # the baseline's sizes: flow at 128 px, input 42 px
    assert feats.dtype == np.float32 and feats.shape == (16 - k, 42, 42, 3)
    half = 21
    u_mouth = feats[:, half:, :, 0].mean(axis=(1, 2))  # |u| in the mouth ROI (lower half)
    # Frame t's shift changes between frames 6 and 10: pair (i, i + 2) moves iff i + 2 > 6 and i < 10.
    moving = np.array([(i + k > 6) and (i < 10) for i in range(len(feats))])
    assert u_mouth[moving].min() > 5 * max(u_mouth[~moving].max(), 0.05)
    # The brows (upper half) do not move.
    assert feats[moving, :half, :, 0].mean() < 0.2 * u_mouth[moving].mean()


def test_global_head_motion_is_removed() -> None:
    tex = texture(2)
    frames = [cv2.cvtColor(np.ascontiguousarray(tex[20:20 + SIZE, 20 + 3 * t:20 + 3 * t + SIZE]), cv2.COLOR_GRAY2RGB)
              for t in range(4)]  # the whole face slides 3 px left per frame (1.5 px at 64 px)
    from samm_synth_dataset.metrics import flow as F

    raw = F.farneback(F.to_grey(frames[0], (64, 64)), F.to_grey(frames[1], (64, 64)))
    assert abs(float(np.median(raw[..., 0]))) > 1.0
    feats = FT.flow_features(frames, 1, PARAMS)
    assert float(feats[..., :2].mean()) < 0.25


def test_landmarks_place_the_regions() -> None:
    rng = np.random.default_rng(0)
    lm = rng.uniform(20, 70, (68, 2))
    lm[17:27, 1] = rng.uniform(25, 35, 10)  # brows
    lm[48:68, 1] = rng.uniform(65, 80, 20)  # mouth
    where = FT.layout(PARAMS, lm, (SIZE, SIZE))
    scale = 64 / SIZE
    assert where.mouth[0].stop >= int(80 * scale) and where.brows[0].start <= int(25 * scale)
    with pytest.raises(ValueError, match="68×2"):
        FT.layout(PARAMS, lm[:5], (SIZE, SIZE))


def test_bad_frames() -> None:
    frames = mouth_moving_video(4)
    with pytest.raises(ValueError, match="006_1, frame position 2: size"):
        FT.flow_features(frames[:2] + [frames[2][:50]] + frames[3:], 1, PARAMS, video="006_1")
    with pytest.raises(ValueError, match="006_1: 4 frame"):
        FT.flow_features(frames, 4, PARAMS, video="006_1")
    with pytest.raises(ValueError, match="uint8"):
        FT.flow_features([f.astype(np.float32) for f in frames], 1, PARAMS)



def test_one_pass_features_equal_flow_features_for_every_k():
    import numpy as np

    from samm_synth_dataset.spotting.features import FeatureParams, flow_features, flow_features_by_k

    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (40, 36, 3), dtype=np.uint8) for _ in range(12)]
    params = FeatureParams(flow_size=32, input_size=12, nose_patch=5)
    got = flow_features_by_k(iter(frames), [2, 5], params, video="v")
    for k in (2, 5):
        assert np.array_equal(got[k], flow_features(frames, k, params, video="v"))
