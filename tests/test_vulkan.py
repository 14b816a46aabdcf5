"""Vulkan compute paths against the CPU ref, device selection, the CPU fallback, and ncnn's own Vulkan.

Needs a Vulkan device: on a machine without a GPU, Mesa's software device (lavapipe) does
(`apt-get install mesa-vulkan-drivers libvulkan1`). Tests that need a device skip with the reason when
there is none, except under CI (env CI set), where CI installs lavapipe and a missing device is a failure.
The fallback tests run everywhere: they force "no Vulkan" through environment variables.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from edgepack import kernels

if os.environ.get("CI"):
    from edgepack import _core  # noqa: F401  (CI builds the package: a missing core is a failure there)
else:
    pytest.importorskip("edgepack._core", reason="edgepack._core is not built (pip install . or see tools/)")

from test_kernels import IMAGE_SIZES, guarded, mean_std, padded_image, u32  # noqa: E402
from test_preprocess import DTYPES, FORMATS, MEAN, STD, frame, out_shape, quant  # noqa: E402
from test_preprocess import guarded as guarded_pre  # noqa: E402

INSTALL_HINT = "apt-get install mesa-vulkan-drivers libvulkan1 (and libvulkan-dev glslang-tools to build)"


def vulkan_reason() -> str | None:
    """None when a Vulkan device is ready, otherwise why not."""
    info = kernels.vulkan_info()
    if info["available"]:
        return None
    return f"no Vulkan device: {info['note']}; {INSTALL_HINT}"


@pytest.fixture
def vulkan() -> None:
    why = vulkan_reason()
    if why is None:
        return
    if os.environ.get("CI") and not os.environ.get("EDGEPACK_VULKAN"):
        pytest.fail(f"CI must test the Vulkan paths, but {why}")
    pytest.skip(why)


def run_python(code: str, **env_vars: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEPACK_VULKAN")}
    env.update(env_vars)
    pkg_parent = str(Path(kernels.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([pkg_parent, env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                          check=False)


# ------------------------------------------------------------------------------ status and devices

def test_vulkan_info_is_consistent():
    info = kernels.vulkan_info()
    devs = kernels.vulkan_devices()
    assert isinstance(info["built"], bool)
    if not info["built"]:
        assert info["note"].startswith("not built") and devs == [] and not info["available"]
    if info["available"]:
        selected = [d for d in devs if d["selected"]]
        assert len(selected) == 1 and selected[0]["compute"]
        assert info["device"] == selected[0]["name"]
        assert [d["index"] for d in devs] == list(range(len(devs)))
        for d in devs:
            assert d["type"] in ("discrete", "integrated", "virtual", "cpu", "other")
            assert d["api_version"].count(".") == 2
    else:
        assert info["note"] and info["device"] is None


def test_ci_has_a_vulkan_device(vulkan):
    # The `vulkan` fixture fails under CI without a device; this test makes that visible on its own.
    assert kernels.vulkan_info()["available"]


def test_device_type_preference(vulkan):
    order = ["discrete", "integrated", "virtual", "cpu", "other"]
    devs = [d for d in kernels.vulkan_devices() if d["compute"]]
    best = min(devs, key=lambda d: (order.index(d["type"]), d["index"]))
    assert best["selected"]


def test_env_picks_device_by_index(vulkan):
    r = run_python("from edgepack import kernels as k; d = k.vulkan_devices(); "
                   "print([x['index'] for x in d if x['selected']], repr(k.vulkan_info()['note']))",
                   EDGEPACK_VULKAN_DEVICE="0")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["[0]", "''"]


def test_env_naming_a_missing_device_chooses_by_type_and_says_so(vulkan):
    r = run_python("from edgepack import kernels as k; print(k.vulkan_info()['available']); "
                   "print([x['index'] for x in k.vulkan_devices() if x['selected']])",
                   EDGEPACK_VULKAN_DEVICE="99")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", str([d["index"] for d in kernels.vulkan_devices() if d["selected"]])]
    assert r.stderr.count("EDGEPACK_VULKAN_DEVICE=99 does not name a Vulkan device") == 1


# ------------------------------------------------------------------------------------- fallback

FALLBACK_PROBE = (
    "import numpy as np; from edgepack import kernels as k\n"
    "img = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)\n"
    "a = k.normalize(img, [1, 2, 3], [4, 5, 6], device='vulkan')\n"
    "b = k.normalize(img, [1, 2, 3], [4, 5, 6], device='vulkan')\n"
    "c = k.normalize(img, [1, 2, 3], [4, 5, 6], isa='ref')\n"
    "print(k.last_device(), np.array_equal(a, c) and np.array_equal(b, c), k.vulkan_info()['available'])\n"
    "print(k.vulkan_info()['note'])\n"
)


@pytest.mark.parametrize("env, note", [
    ({"EDGEPACK_VULKAN": "0"}, "disabled by EDGEPACK_VULKAN=0"),
    ({"EDGEPACK_VULKAN_LOADER": "/nonexistent/libvulkan.so.1"}, "no Vulkan loader (/nonexistent/libvulkan.so.1"),
], ids=["disabled", "no-loader"])
def test_without_vulkan_runs_on_cpu_and_warns_once(env, note):
    r = run_python(FALLBACK_PROBE, **env)
    assert r.returncode == 0, r.stderr
    first, second = r.stdout.splitlines()[:2]
    assert first.split() == ["cpu", "True", "False"]
    if kernels.vulkan_info()["built"]:
        assert second.startswith(note)
    else:
        assert second.startswith("not built")
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("edgepack:")]
    assert len(lines) == 1, r.stderr  # two fallback calls, one warning
    assert lines[0].startswith("edgepack: Vulkan unavailable (") and lines[0].endswith("running normalize on the CPU")


def test_no_warning_when_vulkan_runs(vulkan):
    r = run_python(FALLBACK_PROBE)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:3] == ["vulkan", "True", "True"]
    assert "edgepack:" not in r.stderr


def test_device_argument_errors():
    img = np.zeros((2, 3, 3), np.uint8)
    with pytest.raises(kernels.KernelArgumentError, match="device must be 'cpu' or 'vulkan', got 'gpu'"):
        kernels.normalize(img, 0, 1, device="gpu")
    with pytest.raises(kernels.KernelArgumentError, match="cannot be combined with device='vulkan'"):
        kernels.normalize(img, 0, 1, isa="ref", device="vulkan")
    with pytest.raises(kernels.KernelArgumentError, match="std"):
        kernels.normalize(img, 0, 0, device="vulkan")  # argument checks come before the device


# ------------------------------------------------------------------------------------ normalize

@pytest.mark.parametrize("c", [1, 3, 4])
@pytest.mark.parametrize("hw", IMAGE_SIZES, ids=[f"{h}x{w}" for h, w in IMAGE_SIZES])
def test_normalize_vulkan_identical_to_ref(vulkan, c, hw):
    h, w = hw
    img = padded_image(h, w, c, seed=h * w + c)
    mean, std = mean_std(c, seed=c)
    got = guarded(lambda out: kernels.normalize(img, mean, std, out=out, device="vulkan"), (c, h, w), np.float32,
                  offset=2)
    assert kernels.last_device() == "vulkan"
    ref = kernels.normalize(np.ascontiguousarray(img), mean, std, isa="ref")
    assert np.array_equal(u32(got), u32(ref)), "differs from the ref path"


@pytest.mark.parametrize("channels", [(2, 1, 0), (0, 1, 2), (3,), (1, 1, 0, 3)])
def test_normalize_vulkan_channel_selection(vulkan, channels):
    img = padded_image(5, 37, 4, seed=3)
    mean, std = mean_std(len(channels), seed=4)
    got = kernels.normalize(img, mean, std, channels=channels, device="vulkan")
    assert np.array_equal(u32(got), u32(kernels.normalize(img, mean, std, channels=channels, isa="ref")))


def test_normalize_vulkan_from_threads(vulkan):
    imgs = [padded_image(40 + s, 97 - s, 3, seed=s) for s in range(6)]
    mean, std = mean_std(3)
    want = [kernels.normalize(i, mean, std, isa="ref") for i in imgs]
    got: list = [None] * len(imgs)
    where: list = [None] * len(imgs)

    def work(k: int) -> None:
        got[k] = kernels.normalize(imgs[k], mean, std, device="vulkan")
        where[k] = kernels.last_device()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(imgs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert where == ["vulkan"] * len(imgs)
    assert all(np.array_equal(a, b) for a, b in zip(got, want))


# ----------------------------------------------------------------------------------- preprocess
# The shader computes the spec's integer steps exactly and takes the value stage from tables made by the
# CPU kernel, so every dtype (float32 included) must be bit-identical to the ref: no tolerance.

def vulkan_vs_ref(img, **kw) -> None:
    dtype = kw.get("dtype", "float32")
    shape = out_shape(kw["out_size"], kw.get("color", "rgb"), kw.get("layout", "chw"))
    ref = guarded_pre(lambda o: kernels.preprocess(img, out=o, isa="ref", **kw), shape, dtype)
    got = guarded_pre(lambda o: kernels.preprocess(img, out=o, device="vulkan", **kw), shape, dtype)
    assert kernels.last_device() == "vulkan"
    assert np.array_equal(ref, got), f"vulkan differs from ref for {kw}"


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_preprocess_vulkan_identical_to_ref_small_matrix(vulkan, fmt):
    """Every format x rotation x mirror x mode, dtypes/layouts/colours rotating through the cases."""
    rng = np.random.default_rng(7)
    for (w, h), rotate, mirror, mode in itertools.product(
            [(1, 1), (15, 15), (16, 16), (17, 17)], (0, 90, 180, 270), (False, True), ("stretch", "letterbox")):
        if FORMATS[fmt] == 0:
            w, h = w + w % 2, h + h % 2
        img = frame(fmt, w, h, rng, pad=3)
        dtype = DTYPES[(rotate // 90 + w + mirror) % 4]
        layout = "hwc" if (w + rotate // 90) % 2 else "chw"
        color = ["rgb", "bgr", "gray"][(rotate // 90 + h + mirror) % 3]
        gray = color == "gray"
        for out_size in ((16, 17), (5, 33)):
            vulkan_vs_ref(img, format=fmt, out_size=out_size, rotate=rotate, mirror=mirror, mode=mode, dtype=dtype,
                          layout=layout, color=color, mean=120 if gray else MEAN, std=60 if gray else STD,
                          pad=7 if gray else [114, 0, 255], **quant(dtype))


@pytest.mark.parametrize("interp", ["auto", "bilinear", "area"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_preprocess_vulkan_interp_and_dtypes(vulkan, interp, dtype):
    """Up- and down-scaling by fractional and >= 2x factors on both axes, a crop, every dtype."""
    rng = np.random.default_rng(8)
    img = frame("nv21", 202, 150, rng, pad=6)
    for out_size, crop in (((61, 37), None), ((300, 41), (10, 4, 150, 140)), ((7, 230), (0, 0, 202, 150))):
        vulkan_vs_ref(img, format="nv21", out_size=out_size, crop=crop, interp=interp, dtype=dtype,
                      mean=MEAN, std=STD, mode="letterbox", **quant(dtype))


@pytest.mark.parametrize("fmt", ["rgb888", "bgra8888", "gray8", "nv21", "nv12", "i420"])
def test_preprocess_vulkan_identical_to_ref_large(vulkan, fmt):
    rng = np.random.default_rng(9)
    w, h = (1920, 1080) if FORMATS[fmt] == 0 else (1919, 1081)
    img = frame(fmt, w, h, rng, pad=5)
    vulkan_vs_ref(img, format=fmt, out_size=(640, 640), mode="letterbox", mean=MEAN, std=STD)  # P1's shape
    vulkan_vs_ref(img, format=fmt, out_size=(320, 321), rotate=270, mirror=True, crop=(3, 1, 1001, 777),
                  interp="bilinear", dtype="int8", scale=0.03, zero_point=-5, layout="hwc", color="bgr")


def test_preprocess_vulkan_yuv_planes_with_strides(vulkan):
    """Android camera planes: separate Y and interleaved VU planes, each with its own padded row stride."""
    rng = np.random.default_rng(10)
    w, h = 64, 48
    # Both planes in one allocation: the binding's overlap check spans the planes' whole address range,
    # so planes from two allocations can make an unrelated `out` look overlapping (flaky).
    buf = rng.integers(0, 256, h * (w + 12) + (h // 2) * (w + 20), dtype=np.uint8)
    y = buf[: h * (w + 12)].reshape(h, w + 12)[:, :w]
    vu = buf[h * (w + 12):].reshape(h // 2, w + 20)[:, :w]
    for rotate in (90, 270):
        vulkan_vs_ref((y, vu), format="nv21", width=w, height=h, out_size=(32, 32), rotate=rotate, mirror=True,
                      mode="letterbox", dtype="float16", mean=MEAN, std=STD)


def test_preprocess_vulkan_returns_the_same_info(vulkan):
    img = frame("rgb888", 100, 60, np.random.default_rng(11))
    kw = dict(format="rgb888", out_size=(64, 64), mode="letterbox", rotate=90, crop=(5, 5, 80, 50))
    _, a = kernels.preprocess(img, **kw)
    _, b = kernels.preprocess(img, device="vulkan", **kw)
    assert a == b


def test_preprocess_vulkan_argument_errors_come_first():
    img = np.zeros((4, 6, 3), np.uint8)
    with pytest.raises(kernels.KernelArgumentError, match="rotate must be 0, 90, 180 or 270"):
        kernels.preprocess(img, format="rgb888", out_size=(4, 4), rotate=45, device="vulkan")
    with pytest.raises(kernels.KernelArgumentError, match="cannot be combined with device='vulkan'"):
        kernels.preprocess(img, format="rgb888", out_size=(4, 4), isa="ref", device="vulkan")


def test_preprocess_without_vulkan_runs_on_cpu_and_warns_once():
    code = ("import numpy as np; from edgepack import kernels as k\n"
            "img = np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3)\n"
            "kw = dict(format='rgb888', out_size=(5, 7), mode='letterbox', dtype='float16', mean=9, std=3)\n"
            "a, _ = k.preprocess(img, device='vulkan', **kw); b, _ = k.preprocess(img, device='vulkan', **kw)\n"
            "c, _ = k.preprocess(img, isa='ref', **kw)\n"
            "print(k.last_device(), np.array_equal(a.view(np.uint16), c.view(np.uint16)) and "
            "np.array_equal(b.view(np.uint16), c.view(np.uint16)))\n")
    r = run_python(code, EDGEPACK_VULKAN="0")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["cpu", "True"]
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("edgepack:")]
    assert len(lines) == 1 and lines[0].endswith("running preprocess on the CPU"), r.stderr


# --------------------------------------------------------------------------------- ncnn on Vulkan

def test_ncnn_vulkan_matches_ncnn_cpu(vulkan, tmp_path):
    """ncnn's own Vulkan path on this device gives the CPU result (verify uses it for device='vulkan')."""
    ncnn = pytest.importorskip("ncnn")
    if ncnn.get_gpu_count() < 1:
        pytest.fail(f"edgepack sees a Vulkan device ({kernels.vulkan_info()['device']}) but ncnn does not")
    from conftest import conv_relu_model
    from edgepack.api import convert
    from edgepack.runtime.artifact import seeded_inputs
    from edgepack.runtime.engines import get_engine

    res = convert(conv_relu_model(tmp_path / "conv.onnx"), to="ncnn", precision="fp32", out_dir=tmp_path / "out")
    art = res.artifact("ncnn", "fp32")
    feeds = seeded_inputs(art.inputs, seed=11)
    with get_engine("ncnn").load(art, threads=1) as eng:
        cpu = eng.run(feeds)
    with get_engine("ncnn").load(art, threads=1, device="vulkan") as eng:
        assert eng._net.opt.use_vulkan_compute
        gpu = eng.run(feeds)
    assert set(gpu) == set(cpu) == {"logits", "features"}
    for name in cpu:
        assert gpu[name].shape == cpu[name].shape
        # ncnn's Vulkan path may store activations in fp16: fp16 tolerance.
        np.testing.assert_allclose(gpu[name], cpu[name], rtol=2e-3, atol=2e-3 * max(1.0, np.abs(cpu[name]).max()))
