"""quantize.calib: image calibration goes through the bundle's PreprocessSpec and the C++ preprocess kernel, so
calibration tensors are byte-identical to what the device's Session feeds; pack calibrates with the manifest's
own spec."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from edgepack.errors import InputError
from edgepack.pack import PackOptions, _quant_options, _specs
from edgepack.quantize.calib import image_spec, load_samples
from edgepack.runtime.artifact import TensorInfo
from edgepack.runtime.pipeline.pre import Preprocessor, load_image
from edgepack.runtime.pipeline.spec import PreprocessSpec


def images(d, sizes):
    d.mkdir()
    rng = np.random.default_rng(0)
    for i, (w, h) in enumerate(sizes):
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(d / f"{i}.png")
    return sorted(d.iterdir())


@pytest.mark.parametrize("shape,overrides", [
    ([1, 3, 24, 32], {"resize": "letterbox", "mean": [127.5], "std": [127.5]}),
    ([1, 24, 32, 3], {"resize": "center_crop", "crop_fraction": 0.875, "color": "BGR"}),
    ([1, 1, 16, 16], {"mean": [10.0], "std": [3.0]}),
])
def test_image_calibration_is_what_the_session_feeds(tmp_path, shape, overrides):
    files = images(tmp_path / "imgs", [(50, 31), (17, 40), (32, 24)])
    t = TensorInfo("image", shape, "float32")
    got = load_samples(tmp_path / "imgs", [t], overrides, None)
    spec = PreprocessSpec.for_input("image", shape, **overrides)
    device = Preprocessor(spec, shape, "float32")
    assert len(got) == len(files)
    for feeds, f in zip(got, files):
        np.testing.assert_array_equal(feeds["image"], device(load_image(f)).tensor)


def test_default_spec_is_the_bundles_pixel_units(tmp_path):
    """No mean/std given: pixel values as they are (mean 0, std 1), the bundle's default, for every command."""
    images(tmp_path / "imgs", [(8, 8)])
    x = load_samples(tmp_path / "imgs", [TensorInfo("x", [1, 3, 8, 8], "float32")])[0]["x"]
    assert x.max() > 200 and x.dtype == np.float32


def test_pack_calibrates_with_the_manifests_spec():
    res = SimpleNamespace(inputs=[TensorInfo("image", [1, 3, 40, 30], "float32")],
                          outputs=[TensorInfo("logits", [1, 10], "float32")])
    opt = PackOptions(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], color="BGR", resize="center_crop",
                      crop_fraction=0.875, pad_value=0)
    manifest_spec, _ = _specs(opt, res)
    calib_spec = image_spec(res.inputs[0], _quant_options(opt, "calib").preprocess)
    assert calib_spec == manifest_spec
    plain = PackOptions()
    assert image_spec(res.inputs[0], _quant_options(plain, "calib").preprocess) == _specs(plain, res)[0]


@pytest.mark.parametrize("shape,match", [([1, 16, 16], "needs a 4-D image input"),
                                         ([1, 5, 16, 16], r"images give 1 \(GRAY\) or 3")])
def test_non_image_inputs_are_named(shape, match):
    with pytest.raises(InputError, match=match):
        image_spec(TensorInfo("x", shape, "float32"))
