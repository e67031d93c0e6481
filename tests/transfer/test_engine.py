"""translate_frames: order, batching, greyscale replication, reader thread, bounded read-ahead, errors; and
load_method."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from samm_synth_dataset.sources.frames import FrameReadError
from samm_synth_dataset.transfer import ColorTransfer, StarGANv2, load_method, translate_frames


def _frames(n: int, size: int = 32, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(n)]


class Recording(ColorTransfer):
    """ColorTransfer that records the batch sizes it is given."""

    def __init__(self, image_size: int) -> None:
        super().__init__(image_size)
        self.batches: list[int] = []

    def apply(self, frames, style):
        self.batches.append(len(frames))
        return super().apply(frames, style)


@pytest.mark.parametrize("batch_size", [1, 3, 4, 10])
def test_ordered_batched_and_equal_to_one_apply(batch_size):
    method = Recording(32)
    code = method.style(_frames(1, seed=9)[0], 0)
    frames = _frames(7)
    out = list(translate_frames(method, code, iter(frames), batch_size=batch_size))
    assert len(out) == 7
    assert np.array_equal(np.stack(out), ColorTransfer(32).apply(np.stack(frames), code))
    assert method.batches == [min(batch_size, 7 - i) for i in range(0, 7, batch_size)]


def test_greyscale_frames_are_replicated():
    method = ColorTransfer(32)
    code = method.style(_frames(1, seed=9)[0], 0)
    grey = [f[..., 0] for f in _frames(3)]
    out = list(translate_frames(method, code, grey, batch_size=2))
    rgb = [np.repeat(g[..., None], 3, axis=2) for g in grey]
    assert np.array_equal(np.stack(out), method.apply(np.stack(rgb), code))


def test_reads_in_a_worker_thread_with_bounded_read_ahead():
    method = ColorTransfer(32)
    code = method.style(_frames(1, seed=9)[0], 0)
    pulled: list[int] = []
    threads: set[str] = set()

    def source():
        for i, frame in enumerate(_frames(200)):
            pulled.append(i)
            threads.add(threading.current_thread().name)
            yield frame

    stream = translate_frames(method, code, source(), batch_size=4, prefetch=2)
    next(stream)
    assert threading.current_thread().name not in threads  # decoding happens off the compute thread
    assert len(pulled) <= (2 + 3) * 4 + 1  # queue + the batch being built + the two batches submitted
    stream.close()  # stopping early stops the reader
    assert len(pulled) < 200


def test_errors_name_the_frame():
    method = ColorTransfer(32)
    code = method.style(_frames(1, seed=9)[0], 0)

    def broken():
        yield from _frames(3)
        raise FrameReadError("006_1_0004.jpg: cannot decode image")

    stream = translate_frames(method, code, broken(), batch_size=2)
    with pytest.raises(FrameReadError, match="006_1_0004.jpg"):
        list(stream)
    with pytest.raises(ValueError, match="frame 1 .* is 16×16; the method needs 32×32"):
        list(translate_frames(method, code, [_frames(1)[0], _frames(1, size=16)[0]]))
    with pytest.raises(ValueError, match="frame 0 .* expected uint8"):
        list(translate_frames(method, code, [np.zeros((32, 32, 3), np.float32)]))


def test_stargan_through_the_engine_is_deterministic(celeba_ckpt):
    method = load_method("stargan-v2", celeba_ckpt, batch_size=2)
    assert isinstance(method, StarGANv2) and method.dtype.is_floating_point
    code = method.style(_frames(1, size=64, seed=1)[0], "female")
    frames = [f[..., 1] for f in _frames(3, size=64)]
    a = list(translate_frames(method, code, frames, batch_size=2))
    b = method.apply(np.stack([np.repeat(f[..., None], 3, axis=2) for f in frames]), code)
    assert np.array_equal(np.stack(a), b)


def test_load_method_errors(celeba_ckpt):
    assert isinstance(load_method("color-transfer"), ColorTransfer)
    with pytest.raises(ValueError, match="uses no weights"):
        load_method("color-transfer", checkpoint=celeba_ckpt)
    with pytest.raises(ValueError, match="needs checkpoint="):
        load_method("stargan-v2")
    with pytest.raises(ValueError, match="unknown transfer method 'cyclegan'"):
        load_method("cyclegan")
    with pytest.raises(ValueError, match="float16 autocast is for CUDA"):
        load_method("stargan-v2", celeba_ckpt, dtype="float16")


def test_the_registry_names_the_release_methods(celeba_ckpt):
    from samm_synth_dataset import format as fmt
    from samm_synth_dataset.transfer import METHODS, TransferMethod, method_info

    assert tuple(METHODS) == fmt.METHODS
    assert method_info("stargan-v2").weights and not method_info("color-transfer").weights
    stargan = load_method("stargan-v2", celeba_ckpt, batch_size=2)
    assert isinstance(stargan, TransferMethod) and stargan.batch_size == 2 and stargan.has_landmarks
    assert stargan.domain_index("male") == 1
    assert load_method("color-transfer", batch_size=5, image_size=48).batch_size == 5
