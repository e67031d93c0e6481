"""Style transfer: StarGAN v2 from official checkpoints (``StarGANv2``), a no-weights colour-statistics baseline
(``ColorTransfer``), both behind the :class:`TransferMethod` protocol (``base``); ``engine`` holds the method
registry (``METHODS``, ``load_method``) and ``translate_frames``, the batched video engine.

Names are imported lazily so that ``samm-synth --help`` does not import torch.
"""

from __future__ import annotations

from samm_synth_dataset import lazy_getattr

from samm_synth_dataset.transfer.base import StyleCode, TransferMethod, domain_index

_LAZY: dict[str, str] = {
    "StarGANv2": "samm_synth_dataset.transfer.stargan",
    "images_to_tensor": "samm_synth_dataset.transfer.stargan",
    "tensor_to_images": "samm_synth_dataset.transfer.stargan",
    "load_image": "samm_synth_dataset.transfer.stargan",
    "ColorTransfer": "samm_synth_dataset.transfer.color",
    "load_method": "samm_synth_dataset.transfer.engine",
    "method_info": "samm_synth_dataset.transfer.engine",
    "translate_frames": "samm_synth_dataset.transfer.engine",
    "METHODS": "samm_synth_dataset.transfer.engine",
    "CheckpointError": "samm_synth_dataset.transfer.checkpoint",
    "Generator": "samm_synth_dataset.transfer.model",
    "MappingNetwork": "samm_synth_dataset.transfer.model",
    "StyleEncoder": "samm_synth_dataset.transfer.model",
    "FAN": "samm_synth_dataset.transfer.fan",
}

__all__ = ["StyleCode", "TransferMethod", "domain_index", *_LAZY]

__getattr__ = lazy_getattr(__name__, _LAZY)
