"""Frame stream helpers: the order-keeping bounded pool map and thread counts."""

import time
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from samm_synth_dataset.builders.stream import _ordered_map, thread_counts


def test_ordered_map_keeps_input_order_and_bounds_what_is_in_flight() -> None:
    submitted: list[int] = []

    def items():
        for i in range(20):
            submitted.append(i)
            yield i

    def slow_first(i: int) -> int:
        time.sleep(0.02 if i % 3 == 0 else 0)
        return i * i

    with ThreadPoolExecutor(4) as pool:
        it = _ordered_map(slow_first, items(), pool, lookahead=3)
        assert next(it) == 0
        assert len(submitted) <= 4  # at most lookahead in flight when the first result is taken
        assert list(it) == [i * i for i in range(1, 20)]


def test_thread_counts_share_the_cpus_among_local_ranks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "1")
    one = thread_counts()
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "1000")
    assert thread_counts() == (1, 1)
    assert 1 <= one[0] <= 8 and 1 <= one[1] <= 4
