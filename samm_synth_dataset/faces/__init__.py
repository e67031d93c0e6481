"""One fixed face crop per video: Haar-cascade box framing (default), a boxes CSV, or the official StarGAN v2
similarity alignment from FAN landmarks. Boxes are source pixels, 0-based, end exclusive."""

from samm_synth_dataset.faces.align import align_crop, similarity_matrix
from samm_synth_dataset.faces.crop import FaceCrop
from samm_synth_dataset.faces.locate import (
    MARGIN,
    SHIFT_UP,
    Detection,
    NoFaceError,
    crop_from_detections,
    detect_faces,
    detect_largest_face,
    locate_face,
    read_boxes_csv,
    square_crop,
)

__all__ = [
    "MARGIN", "SHIFT_UP", "Detection", "FaceCrop", "NoFaceError", "align_crop", "crop_from_detections",
    "detect_faces", "detect_largest_face", "locate_face", "read_boxes_csv", "similarity_matrix", "square_crop",
]
