"""domain_index: domain names and numbers of the official checkpoints; TransferMethod conformance."""

from __future__ import annotations

import numpy as np
import pytest

from samm_synth_dataset.transfer import ColorTransfer, TransferMethod, domain_index


def test_domain_index_without_a_model_takes_celeba_names_and_numbers():
    assert domain_index("female") == 0 and domain_index("Male") == 1 and domain_index("2") == 2
    with pytest.raises(ValueError, match="unknown domain 'cat'"):
        domain_index("cat")
    with pytest.raises(ValueError, match="out of range"):
        domain_index("-1")


def test_color_transfer_is_a_transfer_method():
    method = ColorTransfer(32, batch_size=3)
    assert isinstance(method, TransferMethod) and method.batch_size == 3 and not method.has_landmarks
    assert method.domain_index("male") == 1
    frames = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    code = method.style(frames[0], 0)
    assert np.array_equal(method.submit(frames, code)(), method.apply(frames, code))
    with pytest.raises(ValueError, match="no landmark model"):
        method.landmarks(frames)
