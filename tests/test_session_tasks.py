"""detect and segment bundles end to end through real engines: boxes in source pixels, masks at source size."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgepack
from conftest import save_model
from edgepack import kernels
from edgepack.pack import PackOptions, pack

pytestmark = pytest.mark.skipif(not hasattr(kernels, "decode_yolo"), reason="postprocess kernels not in this build")

# 4 anchors in network pixels (cx, cy, w, h) on a 64x64 input; anchor 1 overlaps anchor 0 (IoU ~0.6)
BOXES = np.array([[16, 20, 48, 40], [32, 36, 48, 17], [16, 16, 20, 20], [16, 16, 20, 30]], np.float32)  # [4, N]
LOGITS = np.array([[3.0, 2.0, -4.0, 1.0], [-3.0, -2.0, 2.5, -5.0]], np.float32)  # [C=2, N=4]


def yolo_model(path):
    """images [1,3,64,64] -> [1, 4+2, 4]: constant boxes, class scores sigmoid(LOGITS + mean(image) - 0.5) (the
    mean through GlobalAveragePool + Gemm: ncnn mis-broadcast a ReduceMean scalar added to a [1,2,4] constant)."""
    inits = [numpy_helper.from_array(BOXES[None], "boxes"),
             numpy_helper.from_array(np.full((8, 3), 1 / 3, np.float32), "w"),
             numpy_helper.from_array(LOGITS.reshape(-1) - np.float32(0.5), "b"),
             numpy_helper.from_array(np.array([1, 2, 4], np.int64), "shape")]
    nodes = [helper.make_node("GlobalAveragePool", ["images"], ["gap"], name="gap"),
             helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"),
             helper.make_node("Gemm", ["flat", "w", "b"], ["z"], transB=1, name="fc"),
             helper.make_node("Reshape", ["z", "shape"], ["z3"], name="reshape"),
             helper.make_node("Sigmoid", ["z3"], ["scores"], name="sig"),
             helper.make_node("Concat", ["boxes", "scores"], ["output0"], axis=1, name="cat")]
    return save_model(nodes, [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])],
                      [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 6, 4])], inits, path, opset=13)


def seg_model(path):
    """image [1,3,32,32] -> logits [1,3,32,32] = the RGB planes (1x1 identity conv): class = dominant colour."""
    w = np.eye(3, dtype=np.float32).reshape(3, 3, 1, 1)
    nodes = [helper.make_node("Conv", ["image", "w"], ["logits"], name="conv")]
    return save_model(nodes, [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])],
                      [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3, 32, 32])],
                      [numpy_helper.from_array(w, "w")], path)


def expected_detections(img: np.ndarray, score_threshold=0.25, iou=0.45):
    """Independent reference: decode, greedy NMS (class-aware), inverse letterbox of a 128x64 source in 64x64."""
    m = np.mean(img.astype(np.float64) / 255.0)
    scores = 1 / (1 + np.exp(-(LOGITS.astype(np.float64) + m - 0.5)))
    cls, best = scores.argmax(0), scores.max(0)
    cx, cy, w, h = BOXES.astype(np.float64)
    xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    order = [i for i in np.argsort(-best, kind="stable") if best[i] > score_threshold]
    def iou_of(a, b):
        inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
        return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)

    keep = []
    for i in order:
        if all(cls[j] != cls[i] or iou_of(xyxy[i], xyxy[j]) <= iou for j in keep):
            keep.append(i)
    src = (xyxy[keep] - [0, 16, 0, 16]) / 0.5  # 128x64 letterboxed into 64x64: scale 0.5, pad_y 16
    src[:, 0::2] = src[:, 0::2].clip(0, 128)
    src[:, 1::2] = src[:, 1::2].clip(0, 64)
    return src, best[keep], cls[keep]


@pytest.fixture(scope="module")
def detect_bundle(tmp_path_factory):
    d = tmp_path_factory.mktemp("detect")
    opts = PackOptions(task="detect", labels=["cat", "dog"], mean=[0.0], std=[255.0], resize="letterbox")
    return pack(yolo_model(d / "yolo.onnx"), d / "yolo.edgepack", opts, to="ncnn,mnn", precision="fp32",
                bench_runs=0).path


@pytest.mark.parametrize("engine", ["ncnn", "mnn"])
def test_detections_in_source_pixels(detect_bundle, engine):
    img = np.full((64, 128, 3), 150, np.uint8)  # source 128x64 (w x h)
    img[:, :40] = 30
    with edgepack.load(detect_bundle, engine=engine) as s:
        det = s.run(img)
    boxes, scores, cls = expected_detections(_letterboxed(img))
    assert len(det) == len(scores) >= 2
    np.testing.assert_allclose(det.boxes, boxes, atol=0.05)
    np.testing.assert_allclose(det.scores, scores, atol=1e-4)
    assert list(det.class_ids) == list(cls) and det.labels == [["cat", "dog"][c] for c in cls]


def _letterboxed(img):
    """What the network sees: the kernel's own letterbox of the image (for the mean that drives the scores)."""
    t, _ = kernels.preprocess(img, format="rgb888", out_size=(64, 64), mode="letterbox", layout="hwc", dtype="uint8")
    return t


def test_rotated_frame_boxes_map_to_the_unrotated_frame(detect_bundle):
    img = np.full((64, 64, 3), 200, np.uint8)
    with edgepack.load(detect_bundle, engine="ncnn") as s:
        upright = s.run(img)
        turned = s.run(edgepack.Frame(_nv21_gray(200, 64, 64), 64, 64, "NV21", rotation=90))
    assert len(upright) == len(turned)
    # a box (x1, y1, x2, y2) in the upright image comes from (y1, 64 - x2, y2, 64 - x1) in the unrotated frame
    b = upright.boxes
    np.testing.assert_allclose(turned.boxes, np.stack([b[:, 1], 64 - b[:, 2], b[:, 3], 64 - b[:, 0]], 1), atol=0.05)


def _nv21_gray(value: int, w: int, h: int) -> bytes:
    y = round(16 + value * 219 / 255)
    return bytes([y]) * (w * h) + bytes([128]) * (w * h // 2)


@pytest.mark.parametrize("engine", ["ncnn", "mnn"])
def test_segmentation_mask_at_source_size(tmp_path, engine):
    opts = PackOptions(task="segment", labels=["red", "green", "blue"])
    bundle = pack(seg_model(tmp_path / "seg.onnx"), tmp_path / "seg.edgepack", opts, to=engine, precision="fp32",
                  bench_runs=0).path
    img = np.zeros((48, 64, 3), np.uint8)
    img[:, :20] = (255, 0, 0)
    img[:, 20:44] = (0, 255, 0)
    img[:, 44:] = (0, 0, 255)
    with edgepack.load(bundle) as s:
        mask = s.run(img)
    assert mask.mask.shape == (48, 64) and mask.mask.dtype == np.uint8
    assert (mask.mask[:, :18] == 0).all() and (mask.mask[:, 22:42] == 1).all() and (mask.mask[:, 46:] == 2).all()
    assert set(mask.classes()) == {"red", "green", "blue"}


def test_cli_run_save_draws_boxes(detect_bundle, tmp_path):
    from PIL import Image

    from conftest import run_cli

    Image.fromarray(np.full((64, 128, 3), 150, np.uint8)).save(tmp_path / "frame.png")
    r = run_cli("run", str(detect_bundle), str(tmp_path / "frame.png"), "--save", str(tmp_path / "out.png"))
    assert r.returncode == 0, r.stderr
    assert "cat" in r.stdout and (tmp_path / "out.png").exists()
    drawn = np.asarray(Image.open(tmp_path / "out.png"))
    assert (drawn != 150).any()  # boxes and labels were drawn


def test_mirrored_frame_boxes_map_to_the_unmirrored_frame(detect_bundle):
    """Frame(mirror=True) (a front camera) flips the upright image; boxes still come back in the buffer's pixels:
    mirroring after a 90 degree turn is a vertical flip of the buffer."""
    data = _nv21_gray(200, 64, 64)
    with edgepack.load(detect_bundle, engine="ncnn") as s:
        turned = s.run(edgepack.Frame(data, 64, 64, "NV21", rotation=90))
        mirrored = s.run(edgepack.Frame(data, 64, 64, "NV21", rotation=90, mirror=True))
    assert len(turned) == len(mirrored) >= 1
    b = turned.boxes
    np.testing.assert_allclose(mirrored.boxes, np.stack([b[:, 0], 64 - b[:, 3], b[:, 2], 64 - b[:, 1]], 1), atol=0.05)
