"""One image helper each way: encode (RGB/grey → JPEG/PNG) and decode (grey/RGB/RGBA → the documented layout)."""

import cv2
import numpy as np
import pytest

from samm_synth_dataset.images import ImageDecodeError, decode_image, encode_image, to_rgb


def test_png_round_trips_exactly_and_jpeg_is_close() -> None:
    rng = np.random.default_rng(0)
    rgb = (rng.random((16, 24, 3)) * 255).astype(np.uint8)
    png = cv2.imdecode(np.frombuffer(encode_image(rgb, "png", 95), np.uint8), cv2.IMREAD_COLOR)
    assert np.array_equal(png[..., ::-1], rgb)  # RGB in, BGR stored by OpenCV: channels not swapped
    flat = np.full((16, 16, 3), (200, 40, 10), np.uint8)
    jpeg = encode_image(flat, "jpeg", 95)
    assert jpeg[:2] == b"\xff\xd8"
    back = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
    assert np.abs(back.astype(int) - flat).max() <= 3


def test_decode_gives_grey_as_stored_rgb_for_colour_and_drops_alpha() -> None:
    grey = (np.arange(64, dtype=np.uint8).reshape(8, 8))
    assert np.array_equal(decode_image(encode_image(grey, "png")), grey)
    rgb = np.zeros((4, 5, 3), np.uint8)
    rgb[..., 0] = 250  # red
    assert np.array_equal(decode_image(encode_image(rgb, "png")), rgb)
    bgra = np.zeros((4, 5, 4), np.uint8)
    bgra[..., 2], bgra[..., 3] = 250, 7  # red, nearly transparent
    ok, buf = cv2.imencode(".png", bgra)
    assert ok
    out = decode_image(buf.tobytes())
    assert out.shape == (4, 5, 3) and np.array_equal(out, rgb)
    assert to_rgb(grey).shape == (8, 8, 3)


def test_undecodable_bytes_name_where_and_what_to_do() -> None:
    with pytest.raises(ImageDecodeError, match=r"shard-0\.tar:key\.jpg: cannot decode .*; re-run it"):
        decode_image(b"not an image", "shard-0.tar:key.jpg", hint="re-run it")
    with pytest.raises(ValueError, match="expected 'jpg' or 'png'"):
        encode_image(np.zeros((2, 2), np.uint8), "gif")


def _photo_jpeg(grey: bool) -> bytes:
    from samm_synth_dataset.demo.photos import photo_bgr

    bgr = photo_bgr("grace_hopper")
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if grey else bgr,
                           [cv2.IMWRITE_JPEG_QUALITY, 95])
    return buf.tobytes()


@pytest.mark.parametrize("grey", [True, False])
def test_jpeg_pixels_are_the_ones_opencv_gives(grey: bool) -> None:
    """The strict JPEG decoder changes no pixel: a release built before and after it is byte-identical."""
    data = _photo_jpeg(grey)
    expected = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    got = decode_image(data)
    assert got.shape == expected.shape
    assert np.array_equal(got, expected if grey else expected[..., ::-1])


@pytest.mark.parametrize("grey", [True, False])
def test_corrupt_jpeg_scan_data_is_refused_by_name(grey: bool) -> None:
    """Issue 24 item 5: OpenCV decodes 400 scrambled bytes inside the scan data (end marker intact) into a frame
    with grey blocks and prints one stderr line; the strict decoder refuses it, naming the file and the fix."""
    data = _photo_jpeg(grey)
    middle = (data.index(b"\xff\xda") + len(data)) // 2
    bad = data[:middle] + np.random.default_rng(1).integers(0, 255, 400, dtype=np.uint8).tobytes() + \
        data[middle + 400:]
    assert cv2.imdecode(np.frombuffer(bad, np.uint8), cv2.IMREAD_UNCHANGED) is not None  # OpenCV takes it
    with pytest.raises(ImageDecodeError, match=r"frame\.jpg: corrupt JPEG data \(libjpeg: Corrupt JPEG data: .*\); "
                                               r"re-extract it"):
        decode_image(bad, "frame.jpg", hint="re-extract it")
