"""SOFTNet's published training and decoding recipe (the defaults of the spotting baseline and of every
``spotting-benchmark`` flag), and the checks of the feature sizes. A light module: the command line reads it
without importing torch, OpenCV or SciPy.
"""

from __future__ import annotations

#: Training epochs, batch size and SGD learning rate.
EPOCHS = 10
BATCH_SIZE = 12
LEARNING_RATE = 0.0005
#: Threshold fraction p of the smoothed score: threshold = mean + p × (max − mean).
P = 0.55


def check_feature_sizes(flow_size: int, input_size: int, nose_patch: int) -> None:
    """Raise ValueError unless ``flow_size`` (px, square) >= 16, ``input_size`` (px) is even and >= 2 and
    ``nose_patch`` (px) is odd and >= 1."""
    if flow_size < 16:
        raise ValueError(f"flow_size must be >= 16 px, got {flow_size}")
    if input_size < 2 or input_size % 2:
        raise ValueError(f"input_size must be even and >= 2, got {input_size}")
    if nose_patch < 1 or nose_patch % 2 == 0:
        raise ValueError(f"nose_patch must be odd and >= 1, got {nose_patch}")
