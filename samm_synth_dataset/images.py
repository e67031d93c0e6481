"""Image bytes ↔ arrays, one helper each way. Arrays are uint8, H×W for greyscale, H×W×3 **RGB** for colour; an
alpha channel is dropped on decode.

JPEG is decoded by libjpeg-turbo through ``simplejpeg`` in strict mode: a stream libjpeg reports as corrupt
("Corrupt JPEG data: …", "Premature end of JPEG file") is refused. OpenCV decodes such a stream "successfully" (grey
blocks, one line on stderr). The pixels are the ones OpenCV gives (the same library, accurate integer DCT, fancy
upsampling). CMYK/YCCK JPEGs, PNG and WebP are decoded by OpenCV."""

from __future__ import annotations

import cv2
import numpy as np
import simplejpeg

#: Encodings releases and readers use.
IMAGE_EXTENSIONS: tuple[str, ...] = ("jpg", "jpeg", "png", "webp")
#: The JPEG start-of-image marker.
JPEG_SOI = b"\xff\xd8"
#: PNG zlib level used everywhere (6, OpenCV's speed/size middle).
PNG_COMPRESSION = 6


class ImageDecodeError(ValueError):
    """Bytes that are not a decodable 8-bit image."""


def decode_image(data: bytes | np.ndarray, where: str = "image", hint: str = "") -> np.ndarray:
    """Decode JPEG/PNG/WebP bytes to uint8 H×W (greyscale, as stored) or H×W×3 RGB (BGR, BGRA → RGB).

    Raises ImageDecodeError naming ``where`` (a file, a shard member) with ``hint`` (what to do) appended.
    """
    buf = data if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
    tail = f"; {hint}" if hint else ""
    if buf[:2].tobytes() == JPEG_SOI:
        image = _decode_jpeg_strict(buf, where, tail)
        if image is not None:
            return image
    image = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if buf.size else None
    if image is None:
        raise ImageDecodeError(f"{where}: cannot decode the image bytes ({buf.size} bytes; corrupt or not an "
                               f"image){tail}")
    if image.dtype != np.uint8:
        raise ImageDecodeError(f"{where}: {image.dtype} image; only 8-bit images are supported (convert it to "
                               f"8-bit){tail}")
    if image.ndim == 3:
        if image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
        elif image.shape[2] == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        elif image.shape[2] == 1:
            image = image[:, :, 0]
    return image


def _decode_jpeg_strict(buf: np.ndarray, where: str, tail: str) -> np.ndarray | None:
    """A YCbCr/greyscale JPEG decoded strictly (None for CMYK/YCCK, which OpenCV decodes); ImageDecodeError when
    libjpeg reports the stream as corrupt or unreadable."""
    try:
        colorspace = simplejpeg.decode_jpeg_header(buf)[2]
        if colorspace in ("CMYK", "YCCK"):
            return None
        image = simplejpeg.decode_jpeg(buf, colorspace="GRAY" if colorspace == "Gray" else "RGB", fastdct=False,
                                       fastupsample=False, strict=True)
    except ValueError as exc:
        raise ImageDecodeError(f"{where}: corrupt JPEG data (libjpeg: {exc}){tail}") from None
    return image[:, :, 0] if image.shape[2] == 1 else image


def to_rgb(image: np.ndarray) -> np.ndarray:
    """Replicate a greyscale H×W image to H×W×3; RGB images are returned unchanged."""
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    return image


def encode_image(image: np.ndarray, ext: str, jpeg_quality: int = 95) -> bytes:
    """Encode a uint8 RGB (H×W×3) or greyscale (H×W) array as ``jpg`` (baseline, ``jpeg_quality``) or ``png``
    (zlib level :data:`PNG_COMPRESSION`). Deterministic for a given OpenCV build."""
    arr = np.ascontiguousarray(image)
    if arr.ndim == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    if ext in ("jpg", "jpeg"):
        ok, buf = cv2.imencode(".jpg", arr, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
    elif ext == "png":
        ok, buf = cv2.imencode(".png", arr, [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION])
    else:
        raise ValueError(f"image format {ext!r}: expected 'jpg' or 'png'")
    if not ok:
        raise RuntimeError(f"OpenCV could not encode a {arr.shape} image as {ext}")
    return buf.tobytes()
