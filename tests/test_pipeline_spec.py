"""pipeline.spec: the shared pre/post-processing definitions (bundles, runtime, int8 calibration)."""

from __future__ import annotations

import pytest

from edgepack.errors import InputError
from edgepack.runtime.pipeline.spec import PostprocessSpec, PreprocessSpec


def test_for_input_derives_size_and_layout():
    s = PreprocessSpec.for_input("image", [1, 3, 224, 160], mean=[1, 2, 3], std=[4, 5, 6])
    assert (s.width, s.height, s.layout, s.channels) == (160, 224, "NCHW", 3)
    assert s.input_shape() == [1, 3, 224, 160]
    n = PreprocessSpec.for_input("x", [1, 96, 128, 3])
    assert (n.width, n.height, n.layout) == (128, 96, "NHWC")
    g = PreprocessSpec.for_input("x", [1, 1, 28, 28], mean=[0.5], std=[2])
    assert g.color == "GRAY" and g.per_channel("std") == [2.0]


@pytest.mark.parametrize("shape", [[3, 224, 224], [2, 3, 8, 8], [1, 5, 8, 8]])
def test_for_input_rejects_non_images(shape):
    with pytest.raises(InputError, match="task raw|image input"):
        PreprocessSpec.for_input("x", shape)


@pytest.mark.parametrize("kw,match", [({"mean": [1, 2]}, "--mean has 2 values"), ({"std": [1, 0, 1]}, "std contains 0"),
                                      ({"resize": "squash"}, "unknown resize"), ({"color": "YUV"}, "unknown color")])
def test_bad_preprocess_is_named(kw, match):
    with pytest.raises(InputError, match=match):
        PreprocessSpec.for_input("x", [1, 3, 8, 8], **kw)


def test_round_trip_and_unknown_fields():
    s = PreprocessSpec.for_input("x", [1, 3, 8, 8], resize="letterbox", mean=[127.5], std=[127.5])
    assert PreprocessSpec.from_dict(s.to_dict()) == s
    p = PostprocessSpec.for_task("detect", "out0", score_threshold=0.3)
    d = p.to_dict()
    assert d["kind"] == "yolo" and "top_k" not in d and PostprocessSpec.from_dict(d) == p
    with pytest.raises(InputError, match="unknown field"):
        PreprocessSpec.from_dict({**s.to_dict(), "gamma": 2})
    assert PostprocessSpec.for_task("raw", "ignored").to_dict() == {"kind": "none"}


def test_apply_is_what_the_session_feeds():
    import numpy as np

    from edgepack.demo import load_demo, preprocess

    d = load_demo()
    s = PreprocessSpec.for_input("image", [1, 3, 32, 32], mean=d.spec["mean"], std=d.spec["std"])
    assert s.size == (32, 32)
    np.testing.assert_array_equal(s.apply(d.images[0]), preprocess(d.images[:1], d.spec["mean"], d.spec["std"]))
