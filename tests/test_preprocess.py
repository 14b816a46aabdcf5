"""edgepack.runtime.kernels.preprocess: SIMD paths vs the ref spec (identical bytes), the ref spec vs an independent
numpy implementation and vs OpenCV, the letterbox box mapping, and argument errors.

NEON on an x86 machine is covered by tests/cpp (tests/test_neon_qemu.py runs it under qemu).
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

from edgepack import kernels

if os.environ.get("CI"):
    from edgepack import _core  # noqa: F401
else:
    pytest.importorskip("edgepack._core", reason="edgepack._core is not built")

FORMATS = {"rgb888": 3, "bgr888": 3, "rgba8888": 4, "bgra8888": 4, "gray8": 1, "nv21": 0, "nv12": 0, "i420": 0}
DTYPES = ["float32", "float16", "uint8", "int8"]
MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]
GUARD = 64


def simd_isas() -> list[str]:
    return [i for i in kernels.available_isas() if i != "ref"]


def frame(fmt: str, w: int, h: int, rng: np.random.Generator, pad: int = 0) -> np.ndarray:
    """A source in `fmt` with rows padded by `pad` bytes and data at an odd address."""
    ch = FORMATS[fmt]
    if ch:
        rows, row = h, w * ch
    else:
        rows, row = h * 3 // 2, w
    buf = rng.integers(0, 256, 1 + rows * (row + pad), dtype=np.uint8)
    a = buf[1:].reshape(rows, row + pad)[:, :row]
    if ch and ch > 1:
        a = a.reshape(rows, w, ch)
    if fmt == "i420":
        return np.ascontiguousarray(a)  # a single I420 array must be packed; padded rows need planes
    return a


def guarded(fn, shape, dtype):
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    results = []
    for sentinel in (0xA5, 0x5A):
        buf = np.full(2 * GUARD + 1 + nbytes, sentinel, np.uint8)
        lo, hi = GUARD + 1, GUARD + 1 + nbytes
        out = buf[lo:hi].view(dtype).reshape(shape)
        ret, _ = fn(out)
        assert ret is out or np.shares_memory(ret, out)
        assert (buf[:lo] == sentinel).all() and (buf[hi:] == sentinel).all(), "wrote outside the output"
        results.append(buf[lo:hi].copy())
    assert np.array_equal(results[0], results[1]), "some outputs were not written (sentinel shows through)"
    return results[0]


def out_shape(out_size, color, layout):
    c = 1 if color == "gray" else 3
    return (c, out_size[1], out_size[0]) if layout == "chw" else (out_size[1], out_size[0], c)


def run_both(isa, img, **kw):
    dtype = kw.get("dtype", "float32")
    shape = out_shape(kw["out_size"], kw.get("color", "rgb"), kw.get("layout", "chw"))
    a = guarded(lambda o: kernels.preprocess(img, out=o, isa="ref", **kw), shape, dtype)
    b = guarded(lambda o: kernels.preprocess(img, out=o, isa=isa, **kw), shape, dtype)
    assert np.array_equal(a, b), f"{isa} differs from ref for {kw}"
    assert kernels.last_isa() == isa


def quant(dtype):
    return {"scale": 0.02, "zero_point": 3} if dtype in ("uint8", "int8") else {}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_simd_matches_ref_small_matrix(fmt):
    isas = simd_isas()
    if not isas:
        pytest.skip("no SIMD path on this machine")
    rng = np.random.default_rng(1)
    sizes = [(1, 1), (15, 15), (16, 16), (17, 17)]
    for isa, (w, h), rotate, mirror, mode in itertools.product(
            isas, sizes, (0, 90, 180, 270), (False, True), ("stretch", "letterbox")):
        if FORMATS[fmt] == 0:
            w, h = w + w % 2, h + h % 2
        img = frame(fmt, w, h, rng, pad=3)
        dtype = DTYPES[(rotate // 90 + w) % 4]
        layout = "hwc" if mirror else "chw"
        color = ["rgb", "bgr", "gray"][(rotate // 90 + h) % 3]
        for out_size in ((16, 17), (5, 33)):
            run_both(isa, img, format=fmt, out_size=out_size, rotate=rotate, mirror=mirror, mode=mode,
                     dtype=dtype, layout=layout, color=color, mean=MEAN if color != "gray" else 120,
                     std=STD if color != "gray" else 60, pad=[114, 0, 255] if color != "gray" else 7,
                     **quant(dtype))


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_simd_matches_ref_large(fmt):
    isas = simd_isas()
    if not isas:
        pytest.skip("no SIMD path on this machine")
    rng = np.random.default_rng(2)
    w, h = (1920, 1080) if FORMATS[fmt] == 0 else (1919, 1081)
    img = frame(fmt, w, h, rng, pad=5)
    for isa in isas:
        run_both(isa, img, format=fmt, out_size=(640, 640), mode="letterbox", mean=MEAN, std=STD)
        run_both(isa, img, format=fmt, out_size=(320, 321), rotate=270, mirror=True, crop=(3, 1, 1001, 777),
                 interp="bilinear", dtype="int8", scale=0.03, zero_point=-5, layout="hwc", color="bgr")


# ------------------------------------------------------------------ the spec vs an independent numpy version

def np_rgb(img: np.ndarray, fmt: str) -> np.ndarray:
    """Source -> (H, W, 3) int RGB per the header's colour rules, written independently in numpy."""
    if fmt in ("rgb888", "rgba8888"):
        return img[..., :3].astype(np.int64)
    if fmt in ("bgr888", "bgra8888"):
        return img[..., 2::-1].astype(np.int64)
    if fmt == "gray8":
        return np.repeat(img[..., None], 3, axis=2).astype(np.int64)
    h = img.shape[0] * 2 // 3
    w = img.shape[1]
    y = img[:h].astype(np.int64)
    if fmt == "i420":
        flat = img.reshape(-1)
        u = flat[h * w:h * w + h * w // 4].reshape(h // 2, w // 2)
        v = flat[h * w + h * w // 4:h * w + h * w // 2].reshape(h // 2, w // 2)
    else:
        c = img[h:].reshape(h // 2, w // 2, 2)
        v, u = (c[..., 0], c[..., 1]) if fmt == "nv21" else (c[..., 1], c[..., 0])
    u = u.astype(np.int64).repeat(2, 0).repeat(2, 1) - 128
    v = v.astype(np.int64).repeat(2, 0).repeat(2, 1) - 128
    yy = np.maximum(y - 16, 0) * 1220542 + (1 << 19)
    rgb = [(yy + 1673527 * v) >> 20, (yy - 852492 * v - 409993 * u) >> 20, (yy + 2116026 * u) >> 20]
    return np.clip(np.stack(rgb, -1), 0, 255)


def np_weights(n: int, m: int, area: bool) -> np.ndarray:
    """(m, n) Q12 resampling matrix, from the header's formulas (dense, no tap tables)."""
    w = np.zeros((m, n), np.int64)
    for i in range(m):
        if area:
            lo, hi = i * n, (i + 1) * n
            acc = prev = 0
            for k in range(n):
                ov = min(hi, (k + 1) * m) - max(lo, k * m)
                if ov > 0:
                    acc += ov
                    c = (4096 * acc + n // 2) // n
                    w[i, k] = c - prev
                    prev = c
        else:
            num = max((2 * i + 1) * n - m, 0)
            i0, r = divmod(num, 2 * m)
            w1 = (4096 * r + m) // (2 * m)
            if i0 >= n - 1:
                i0, w1 = n - 1, 0
            w[i, i0] += 4096 - w1
            if w1:
                w[i, i0 + 1] += w1
    return w


def np_preprocess(img, fmt, out_size, mode, rotate, mirror, mean, std, interp="auto"):
    rgb = np_rgb(img, fmt)
    h, w = rgb.shape[:2]
    W, H = out_size
    ow, oh = (h, w) if rotate in (90, 270) else (w, h)
    if mode == "stretch":
        rw, rh, px, py = W, H, 0, 0
    else:
        if W * oh <= H * ow:
            rw, rh = W, (2 * oh * W + ow) // (2 * ow)
        else:
            rw, rh = (2 * ow * H + oh) // (2 * oh), H
        px, py = (W - rw) // 2, (H - rh) // 2
    tw, th = (rh, rw) if rotate in (90, 270) else (rw, rh)
    ax = np_weights(w, tw, interp == "area" and w > tw or interp == "auto" and w >= 2 * tw)
    ay = np_weights(h, th, interp == "area" and h > th or interp == "auto" and h >= 2 * th)
    v = (np.einsum("tj,jxc->txc", ay, rgb) + 16) >> 5
    p = np.minimum((np.einsum("si,tic->tsc", ax, v) + (1 << 18)) >> 19, 255)
    p = np.rot90(p, k=-(rotate // 90), axes=(0, 1))  # clockwise
    if mirror:
        p = p[:, ::-1]
    canvas = np.empty((H, W, 3), np.int64)
    canvas[...] = [114, 114, 114]
    canvas[py:py + rh, px:px + rw] = p
    m = np.asarray(mean, np.float32)
    s = np.float32(1) / np.asarray(std, np.float32)
    return ((canvas.astype(np.float32) - m) * s).transpose(2, 0, 1)


@pytest.mark.parametrize("fmt,size,out_size,mode,rotate,mirror,interp", [
    ("nv21", (64, 48), (40, 40), "letterbox", 0, False, "auto"),
    ("nv12", (30, 22), (17, 50), "letterbox", 90, True, "bilinear"),
    ("i420", (32, 32), (70, 45), "stretch", 180, False, "auto"),
    ("rgb888", (41, 23), (10, 9), "stretch", 270, True, "area"),
    ("bgra8888", (19, 31), (33, 33), "letterbox", 270, False, "auto"),
    ("gray8", (50, 13), (12, 20), "letterbox", 90, False, "auto"),
])
def test_ref_matches_independent_numpy(fmt, size, out_size, mode, rotate, mirror, interp):
    img = frame(fmt, *size, np.random.default_rng(3))
    got, _ = kernels.preprocess(img, format=fmt, out_size=out_size, mode=mode, rotate=rotate, mirror=mirror,
                                mean=MEAN, std=STD, interp=interp, isa="ref")
    want = np_preprocess(img, fmt, out_size, mode, rotate, mirror, MEAN, STD, interp)
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))


def test_quantized_and_fp16_values():
    img = frame("rgb888", 8, 8, np.random.default_rng(4))
    f32, _ = kernels.preprocess(img, format="rgb888", out_size=(8, 8), mean=MEAN, std=STD)
    f16, _ = kernels.preprocess(img, format="rgb888", out_size=(8, 8), mean=MEAN, std=STD, dtype="float16")
    assert np.array_equal(f16, f32.astype(np.float16))
    for dtype, lo, hi in (("uint8", 0, 255), ("int8", -128, 127)):
        q, _ = kernels.preprocess(img, format="rgb888", out_size=(8, 8), mean=MEAN, std=STD, dtype=dtype,
                                  scale=0.017, zero_point=10)
        want = np.clip(np.rint(f32 / np.float32(0.017)) + 10, lo, hi).astype(dtype)
        assert np.array_equal(q, want)


# ------------------------------------------------------------------ against OpenCV on a real image

def real_image() -> np.ndarray:
    """A natural photo: scikit-learn's china.jpg when available, else a rendered smooth scene."""
    try:
        from sklearn.datasets import load_sample_image
        return load_sample_image("china.jpg")[:426, :640]  # even sizes for NV21
    except Exception:  # noqa: BLE001  (scikit-learn missing or without sample images)
        yy, xx = np.mgrid[0:426, 0:640]
        return np.stack([(xx * 255 // 639), (yy * 255 // 425), ((xx + yy) % 256)], -1).astype(np.uint8)


def test_ref_matches_opencv_colour_and_bilinear():
    cv2 = pytest.importorskip("cv2")
    rgb = real_image()
    nv21 = cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), cv2.COLOR_BGR2YUV_YV12)  # any 4:2:0 bytes
    h, w = rgb.shape[:2]
    yuv = np.ascontiguousarray(nv21.reshape(-1)[: w * h * 3 // 2].reshape(h * 3 // 2, w))
    want_full = cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB_NV21)
    same, _ = kernels.preprocess(yuv, format="nv21", out_size=(w, h), dtype="uint8", layout="hwc", isa="ref")
    assert np.array_equal(same, want_full)  # colour conversion: bit-identical to OpenCV
    for size in ((300, 200), (211, 97), (1000, 700)):
        want = cv2.resize(want_full, size, interpolation=cv2.INTER_LINEAR)
        got, _ = kernels.preprocess(yuv, format="nv21", out_size=size, interp="bilinear", dtype="uint8",
                                    layout="hwc", isa="ref")
        assert np.abs(got.astype(int) - want).max() <= 1, size
    want = cv2.resize(rgb, (160, 106), interpolation=cv2.INTER_AREA)
    got, _ = kernels.preprocess(rgb, format="rgb888", out_size=(160, 106), dtype="uint8", layout="hwc")
    assert np.abs(got.astype(int) - want).max() <= 1


# ------------------------------------------------------------------ geometry and box mapping

@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
@pytest.mark.parametrize("mirror", [False, True])
def test_box_mapping_round_trip(rotate, mirror):
    """A marked source rectangle lands where map_boxes says, in C++ and Python alike."""
    src = np.zeros((120, 200), np.uint8)
    x1, y1, x2, y2 = 50, 30, 90, 50  # the marked box in source pixels
    src[y1:y2, x1:x2] = 255
    crop = (10, 20, 180, 100)
    out, info = kernels.preprocess(src, format="gray8", out_size=(64, 48), mode="letterbox", rotate=rotate,
                                   mirror=mirror, crop=crop, color="gray", dtype="uint8", interp="bilinear", pad=0)
    ys, xs = np.nonzero(out[0] > 127)
    model_box = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    back = info.map_boxes([model_box])[0]
    assert np.allclose(back, [x1, y1, x2, y2], atol=2 / min(info.scale)), (back, info)
    core = kernels._core().preprocess_map_boxes(*info.src_size, info.crop, info.rotate, info.mirror,
                                                info.oriented_size, info.pad, info.scale, [model_box])
    assert np.allclose(core[0], back)


def test_letterbox_info_p1():
    img = np.zeros((1620, 1920), np.uint8)
    _, info = kernels.preprocess(img, format="nv21", out_size=(640, 640), mode="letterbox")
    assert info.resized_size == (640, 360) and info.pad == (0, 140) and info.scale == (1 / 3, 1 / 3)
    assert np.allclose(info.map_boxes([[0, 140, 640, 500]]), [[0, 0, 1920, 1080]])


def test_planes_tuple_and_1d_buffer_equal_2d_frame():
    rng = np.random.default_rng(5)
    f = frame("nv21", 64, 32, rng)
    a, _ = kernels.preprocess(f, format="nv21", out_size=(20, 20))
    b, _ = kernels.preprocess(np.ascontiguousarray(f).reshape(-1), format="nv21", width=64, height=32,
                              out_size=(20, 20))
    big = np.zeros((60, 80), np.uint8)  # planes inside larger padded buffers
    big[:32, :64] = f[:32]
    vu = np.zeros((16, 70), np.uint8)
    vu[:, :64] = f[32:]
    c, _ = kernels.preprocess((big[:32, :64], vu[:, :64]), format="nv21", out_size=(20, 20))
    assert np.array_equal(a, b) and np.array_equal(a, c)


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("kw,match", [
    (dict(src=np.zeros((15, 31), np.uint8), format="nv21"), "even"),
    (dict(src=np.zeros((16, 31), np.uint8), format="nv21"), "multiple of 3"),
    (dict(src=np.zeros(100, np.uint8), format="nv21", width=10, height=10), "needs 150 bytes"),
    (dict(src=np.zeros((10, 10, 4), np.uint8), format="rgb888"), r"\(H, W, 3\)"),
    (dict(src=np.zeros((0, 10, 3), np.uint8), format="rgb888"), "positive|empty"),
    (dict(src=np.zeros((10, 10, 3), np.uint8), format="rgb888", crop=(5, 5, 10, 10)), "inside"),
    (dict(src=np.zeros((10, 10, 3), np.uint8), format="rgb888", rotate=45), "rotate"),
    (dict(src=np.zeros((10, 10, 3), np.uint8), format="rgb888", std=0), "std"),
    (dict(src=np.zeros((10, 10, 3), np.uint8), format="rgb888", out=np.zeros((3, 4, 4), np.float32)),
     r"shape \(3, 8, 8\)"),
    (dict(src=np.zeros((10, 10, 3), np.uint8), format="yuv"), "format"),
    (dict(src=np.zeros((10, 10, 3), np.uint8)[:, ::2], format="rgb888"), "packed"),
    (dict(src=np.zeros((10, 10, 3), np.uint8), format="rgb888", dtype="int8", mean=MEAN, std=STD), "scale"),
])
def test_bad_arguments(kw, match):
    kw.setdefault("out_size", (8, 8))
    src = kw.pop("src")
    with pytest.raises(kernels.KernelArgumentError, match=match):
        kernels.preprocess(src, **kw)


def test_short_chroma_plane_rejected():
    y = np.zeros((32, 64), np.uint8)
    with pytest.raises(kernels.KernelArgumentError, match="plane 1 must have at least 16 rows of 64 bytes"):
        kernels.preprocess((y, np.zeros((15, 64), np.uint8)), format="nv21", out_size=(8, 8))


def test_out_between_separate_planes_is_not_overlap():
    """Regression: the overlap check spanned lowest..highest plane, so an `out` allocated between two
    separately allocated YUV planes was refused as overlapping."""
    pool = np.zeros(3 * 64 * 64, np.uint8)  # y | out-sized gap | vu, all in one block but disjoint
    y = pool[: 64 * 64].reshape(64, 64)
    y[:] = 120
    vu = pool[-64 * 32:].reshape(32, 64)
    vu[:] = 128
    gap = pool[64 * 64: 64 * 64 + 3 * 8 * 8].reshape(3, 8, 8)
    out, _ = kernels.preprocess((y, vu), format="nv21", out_size=(8, 8), dtype="uint8", out=gap)
    assert out is gap or np.shares_memory(out, gap)
    ref, _ = kernels.preprocess((y.copy(), vu.copy()), format="nv21", out_size=(8, 8), dtype="uint8")
    np.testing.assert_array_equal(gap, ref)
    with pytest.raises(ValueError, match="overlaps"):
        kernels.preprocess((y, vu), format="nv21", out_size=(8, 8), dtype="uint8",
                           out=vu[:24].reshape(-1)[: 3 * 8 * 8].reshape(3, 8, 8))
