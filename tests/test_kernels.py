"""edgepack.runtime.kernels: every SIMD path on this machine against the scalar ref (the spec) and numpy.

Outputs are written into larger buffers pre-filled with a sentinel; each case runs with two different
sentinels so a skipped write (sentinel shows through) or a write outside the output (guard changed)
fails. Inputs sit at odd byte offsets and images have padded rows. NEON on an x86 machine is covered
by tests/test_neon_qemu.py.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import edgepack
from edgepack import kernels

if os.environ.get("CI"):
    from edgepack import _core  # noqa: F401  (CI builds the package: a missing core is a failure there)
else:
    pytest.importorskip("edgepack._core", reason="edgepack._core is not built (pip install . or see tools/)")

SIMD = ["avx2", "neon"]
ALL = ["ref", *SIMD]
GUARD = 64
FP16_SIZES = [1, 15, 16, 17, 31, 33, 1919 * 1081]
IMAGE_SIZES = [(1, 1), (3, 15), (2, 16), (2, 17), (5, 31), (4, 33), (1081, 1919)]


def need(isa: str) -> None:
    if isa not in kernels.available_isas():
        pytest.skip(f"{isa} is not available on this {platform.machine()} machine/build "
                    f"(available: {kernels.available_isas()})")


@pytest.fixture(params=ALL)
def isa(request) -> str:
    need(request.param)
    return request.param


def u32(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint32)


def at_odd_offset(a: np.ndarray, offset: int = 1) -> np.ndarray:
    """A copy of `a` whose data starts `offset` bytes into a fresh byte buffer (so it is unaligned)."""
    buf = np.zeros(a.nbytes + offset, np.uint8)
    out = buf[offset:].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


def guarded(fn, shape: tuple[int, ...], dtype, offset: int = 1) -> np.ndarray:
    """Runs fn(out) with `out` inside sentinel-filled guards, twice; checks guards and full coverage."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    results = []
    for sentinel in (0xA5, 0x5A):
        buf = np.full(2 * GUARD + offset + nbytes, sentinel, np.uint8)
        lo, hi = GUARD + offset, GUARD + offset + nbytes
        out = buf[lo:hi].view(dtype).reshape(shape)
        ret = fn(out)
        assert ret is out or np.shares_memory(ret, out), "kernel did not return the out array"
        assert (buf[:lo] == sentinel).all(), "wrote before the output"
        assert (buf[hi:] == sentinel).all(), "wrote after the output"
        results.append(buf[lo:hi].copy())
    assert np.array_equal(results[0], results[1]), "some outputs were not written (sentinel shows through)"
    return results[0].view(dtype).reshape(shape)


# ------------------------------------------------------------------------------------------ fp16

ALL_HALVES = np.arange(65536, dtype=np.uint32).astype(np.uint16)


def quiet_half(h: np.ndarray) -> np.ndarray:
    """The spec for NaNs: signalling NaNs get the quiet bit; everything else is unchanged."""
    nan = ((h & 0x7C00) == 0x7C00) & ((h & 0x3FF) != 0)
    return np.where(nan, h | 0x200, h).astype(np.uint16)


def spec_half_of_nan(f: np.ndarray) -> np.ndarray:
    b = u32(f)
    return (((b >> 16) & 0x8000) | 0x7E00 | ((b >> 13) & 0x3FF)).astype(np.uint16)


def fp16_test_floats(n: int, seed: int = 0) -> np.ndarray:
    """Random floats over the whole fp16 range and beyond, with special values mixed in."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    near = (bits & 0x807FFFFF) | (rng.integers(100, 148, n, dtype=np.uint32) << 23)  # around fp16's range
    x = np.where(rng.random(n) < 0.7, near, bits).view(np.float32)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 65504, -65504, 65519.996, 65520,
                         6.1035156e-05, 5.9604645e-08, 2.9802322e-08, 1.0e-45, -1.0e-45, 1.1754944e-38,
                         3.4028235e38, -3.4028235e38, 1.00048828125, 1.00146484375, 0.1], np.float32)
    x[: min(n, len(specials))] = specials[: min(n, len(specials))]
    return x


def halfway_floats() -> np.ndarray:
    """Every midpoint between adjacent finite halves (exact in fp32), and one fp32 ulp either side."""
    h = np.arange(0x7C00, dtype=np.uint16)
    lo = h.view(np.float16).astype(np.float64)
    hi = (h + 1).view(np.float16).astype(np.float64)
    mid = ((lo + hi) / 2).astype(np.float32)
    mids = np.concatenate([mid, np.nextafter(mid, np.float32(0)), np.nextafter(mid, np.float32(np.inf))])
    return np.concatenate([mids, -mids])


def test_fp16_to_fp32_all_bit_patterns(isa):
    h = ALL_HALVES.view(np.float16)
    got = kernels.fp16_to_fp32(h, isa=isa)
    assert got.dtype == np.float32 and got.shape == (65536,)
    want = h.astype(np.float32)
    nan = np.isnan(want)
    assert np.array_equal(u32(got)[~nan], u32(want)[~nan])
    # numpy keeps signalling NaNs signalling; the spec (and F16C/FCVTL) sets the quiet bit.
    assert np.array_equal(u32(got)[nan], u32(want)[nan] | 0x00400000)
    assert np.array_equal(u32(got), u32(kernels.fp16_to_fp32(h, isa="ref")))


def test_fp16_round_trip_all_bit_patterns(isa):
    f = kernels.fp16_to_fp32(ALL_HALVES.view(np.float16), isa=isa)
    back = kernels.fp32_to_fp16(f, isa=isa).view(np.uint16)
    assert np.array_equal(back, quiet_half(ALL_HALVES))


@pytest.mark.parametrize("kind", ["random", "halfway"])
def test_fp32_to_fp16_bits_match_numpy(isa, kind):
    x = fp16_test_floats(1 << 20) if kind == "random" else halfway_floats()
    got = kernels.fp32_to_fp16(x, isa=isa).view(np.uint16)
    with np.errstate(over="ignore"):
        want = x.astype(np.float16).view(np.uint16)
    b = u32(x)
    snan = ((b & 0x7F800000) == 0x7F800000) & ((b & 0x7FFFFF) != 0) & ((b & 0x400000) == 0)
    assert np.array_equal(got[~snan], want[~snan])
    assert np.array_equal(got[snan], spec_half_of_nan(x[snan]))
    assert np.array_equal(got, kernels.fp32_to_fp16(x, isa="ref").view(np.uint16))


@pytest.mark.parametrize("n", FP16_SIZES)
def test_fp32_to_fp16_sizes_unaligned_guarded(isa, n):
    x = at_odd_offset(fp16_test_floats(n, seed=n))
    assert not x.flags.aligned or n == 0
    got = guarded(lambda out: kernels.fp32_to_fp16(x, out=out, isa=isa), (n,), np.float16)
    assert np.array_equal(got.view(np.uint16), kernels.fp32_to_fp16(x.copy(), isa="ref").view(np.uint16))
    finite = np.isfinite(x)
    with np.errstate(over="ignore"):
        assert np.array_equal(got[finite].view(np.uint16), x[finite].astype(np.float16).view(np.uint16))


@pytest.mark.parametrize("n", FP16_SIZES)
def test_fp16_to_fp32_sizes_unaligned_guarded(isa, n):
    rng = np.random.default_rng(n)
    h = at_odd_offset(rng.integers(0, 65536, n, dtype=np.uint32).astype(np.uint16).view(np.float16))
    got = guarded(lambda out: kernels.fp16_to_fp32(h, out=out, isa=isa), (n,), np.float32, offset=3)
    assert np.array_equal(u32(got), u32(kernels.fp16_to_fp32(h.copy(), isa="ref")))


def test_fp16_keeps_shape_and_handles_empty():
    x = np.linspace(-3, 3, 24, dtype=np.float32).reshape(2, 3, 4)
    h = kernels.fp32_to_fp16(x)
    assert h.shape == (2, 3, 4) and h.dtype == np.float16
    assert np.array_equal(kernels.fp16_to_fp32(h), x.astype(np.float16).astype(np.float32))
    assert kernels.fp32_to_fp16(np.zeros((0, 3), np.float32)).shape == (0, 3)


# ------------------------------------------------------------------------------------- normalize

def padded_image(h: int, w: int, c: int, pad: int = 7, offset: int = 1, seed: int = 0) -> np.ndarray:
    """A uint8 (h, w, c) view with rows `pad` bytes longer than w * c, starting at an odd address."""
    rng = np.random.default_rng(seed)
    stride = w * c + pad
    buf = rng.integers(0, 256, offset + h * stride, dtype=np.uint16).astype(np.uint8)
    img = np.lib.stride_tricks.as_strided(buf[offset:], (h, w, c), (stride, c, 1), writeable=False)
    assert img.strides[0] == stride
    return img


def numpy_spec(img: np.ndarray, mean, std, channels=None) -> np.ndarray:
    """The spec in numpy float32: (v - mean) * (1 / std), planes in `channels` order."""
    if img.ndim == 2:
        img = img[:, :, None]
    channels = list(range(img.shape[2])) if channels is None else list(channels)
    m = np.asarray(mean, np.float32).reshape(-1, 1, 1)
    scale = (np.float32(1) / np.asarray(std, np.float32)).reshape(-1, 1, 1)
    v = img[:, :, channels].transpose(2, 0, 1).astype(np.float32)
    return (v - m) * scale


def mean_std(c: int, seed: int = 0) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(seed)
    return list(rng.uniform(0, 255, c)), list(rng.uniform(0.5, 80, c))


@pytest.mark.parametrize("c", [1, 3, 4])
@pytest.mark.parametrize("hw", IMAGE_SIZES, ids=[f"{h}x{w}" for h, w in IMAGE_SIZES])
def test_normalize_matches_ref_and_numpy(isa, c, hw):
    h, w = hw
    img = padded_image(h, w, c, seed=h * w + c)
    mean, std = mean_std(c, seed=c)
    got = guarded(lambda out: kernels.normalize(img, mean, std, out=out, isa=isa), (c, h, w), np.float32, offset=2)
    ref = kernels.normalize(np.ascontiguousarray(img), mean, std, isa="ref")
    assert np.array_equal(u32(got), u32(ref)), "differs from the ref path"
    assert np.array_equal(got, numpy_spec(img, mean, std)), "differs from the float32 spec"
    exact = (img.transpose(2, 0, 1).astype(np.float64) - np.reshape(mean, (-1, 1, 1))) / np.reshape(std, (-1, 1, 1))
    np.testing.assert_allclose(got, exact, rtol=1e-5, atol=1e-5 * 255 / min(std))


@pytest.mark.parametrize("channels", [(2, 1, 0), (0, 1, 2), (3,), (1, 1, 0, 3)])
def test_normalize_channel_selection(isa, channels):
    img = padded_image(5, 37, 4, seed=3)
    mean, std = mean_std(len(channels), seed=4)
    got = kernels.normalize(img, mean, std, channels=channels, isa=isa)
    assert got.shape == (len(channels), 5, 37)
    assert np.array_equal(got, numpy_spec(img, mean, std, channels))


def test_bgr_to_rgb_equals_reversed_input(isa):
    bgr = padded_image(9, 41, 3, seed=5)
    mean, std = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
    got = kernels.normalize(bgr, mean, std, channels=(2, 1, 0), isa=isa)
    assert np.array_equal(got, kernels.normalize(np.ascontiguousarray(bgr[..., ::-1]), mean, std, isa=isa))


def test_normalize_grayscale_2d_and_scalar_mean_std(isa):
    img = padded_image(6, 19, 1, seed=6)[:, :, 0]
    got = kernels.normalize(img, 127.5, 127.5, isa=isa)
    assert got.shape == (1, 6, 19)
    assert np.array_equal(got, numpy_spec(img, [127.5], [127.5]))
    rgb = padded_image(3, 5, 3)
    assert np.array_equal(kernels.normalize(rgb, 10.0, 2.0, isa=isa), numpy_spec(rgb, [10.0] * 3, [2.0] * 3))


def test_normalize_from_threads_matches_sequential():
    imgs = [padded_image(64, 97, 3, seed=s) for s in range(8)]
    mean, std = mean_std(3)
    want = [kernels.normalize(i, mean, std) for i in imgs]
    got: list = [None] * len(imgs)

    def work(k: int) -> None:
        got[k] = kernels.normalize(imgs[k], mean, std)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(imgs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(a, b) for a, b in zip(got, want))


# ------------------------------------------------------------------------------------ bad input

IMG = np.zeros((4, 5, 3), np.uint8)
F32 = np.zeros((4, 5), np.float32)
SHARED = np.zeros(3 * 4 * 5, np.float32)  # out and image in one buffer: they overlap
READONLY = np.zeros((3, 4, 5), np.float32)
READONLY.setflags(write=False)

BAD_CALLS = {
    "float image": (lambda: kernels.normalize(IMG.astype(np.float32), 0, 1), "shape (H, W), (H, W, 1), (H, W, 3)"),
    "2 channels": (lambda: kernels.normalize(np.zeros((4, 5, 2), np.uint8), 0, 1), "(H, W, 4)"),
    "4-d image": (lambda: kernels.normalize(np.zeros((1, 4, 5, 3), np.uint8), 0, 1), "got uint8 array of shape"),
    "zero height": (lambda: kernels.normalize(np.zeros((0, 5, 3), np.uint8), 0, 1), "empty image of shape (0, 5, 3)"),
    "zero width": (lambda: kernels.normalize(np.zeros((4, 0, 3), np.uint8), 0, 1), "empty image"),
    "pixel stride": (lambda: kernels.normalize(IMG[:, ::2], 0, 1), "got strides (15, 6, 1)"),
    "planar layout": (lambda: kernels.normalize(np.asfortranarray(IMG), 0, 1), "strides"),
    "flipped rows": (lambda: kernels.normalize(IMG[::-1], 0, 1), "got strides (-15, 3, 1)"),
    "mean length": (lambda: kernels.normalize(IMG, [1, 2], 1), "mean has 2 values; expected 1 or 3"),
    "mean 2-d": (lambda: kernels.normalize(IMG, [[1, 2, 3]], 1), "mean must be a number or a 1-D"),
    "std zero": (lambda: kernels.normalize(IMG, 0, [1, 0, 1]), "std[1] must be finite and non-zero"),
    "std nan": (lambda: kernels.normalize(IMG, 0, float("nan")), "std[0] must be finite"),
    "channel index": (lambda: kernels.normalize(IMG, 0, 1, channels=(0, 3)), "channels[1] = 3"),
    "no channels": (lambda: kernels.normalize(IMG, 0, 1, channels=()), "1 to 4 input channel"),
    "out shape": (lambda: kernels.normalize(IMG, 0, 1, out=np.zeros((3, 5, 4), np.float32)),
                  "out must be a writeable C-contiguous float32 array of shape (3, 4, 5)"),
    "out dtype": (lambda: kernels.normalize(IMG, 0, 1, out=np.zeros((3, 4, 5), np.float64)), "got float64 array"),
    "out strided": (lambda: kernels.normalize(IMG, 0, 1, out=np.zeros((3, 4, 10), np.float32)[:, :, ::2]),
                    "not C-contiguous"),
    "out read-only": (lambda: kernels.normalize(IMG, 0, 1, out=READONLY), "it is read-only"),
    "out overlaps": (lambda: kernels.normalize(SHARED.view(np.uint8)[:60].reshape(4, 5, 3), 0, 1,
                                               out=SHARED.reshape(3, 4, 5)), "overlaps the input"),
    "unknown isa": (lambda: kernels.normalize(IMG, 0, 1, isa="sse9"), "isa must be 'ref', 'avx2' or 'neon'"),
    "fp16 from float64": (lambda: kernels.fp32_to_fp16(F32.astype(np.float64)),
                          "expected a C-contiguous float32 array (any shape), got float64"),
    "fp16 from strided": (lambda: kernels.fp32_to_fp16(F32[:, ::2]), "not C-contiguous"),
    "fp16 big-endian": (lambda: kernels.fp32_to_fp16(F32.astype(">f4")), "expected a C-contiguous float32"),
    "fp16 from list": (lambda: kernels.fp32_to_fp16([1.0, 2.0]), "float32 array (any shape), got list"),
    "image from list": (lambda: kernels.normalize([[1, 2]], 0, 1), "got list"),
    "fp32 from float32": (lambda: kernels.fp16_to_fp32(F32), "expected a C-contiguous float16 array"),
    "fp16 out shape": (lambda: kernels.fp32_to_fp16(F32, out=np.zeros(20, np.float16)), "array of shape (4, 5)"),
    "fp16 in place": (lambda: kernels.fp16_to_fp32(F32.reshape(-1).view(np.float16)[:20].reshape(4, 5), out=F32),
                      "overlaps the input"),
}


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_bad_arguments_raise_value_error_naming_the_expectation(name):
    call, message = BAD_CALLS[name]
    with pytest.raises(ValueError) as info:
        call()
    assert isinstance(info.value, edgepack.Error) and isinstance(info.value, kernels.KernelArgumentError)
    assert message in str(info.value)


def test_unavailable_isa_raises():
    missing = [i for i in SIMD if i not in kernels.available_isas()]
    if not missing:
        pytest.skip("every ISA is available here")
    with pytest.raises(ValueError, match=f"isa '{missing[0]}' is not available here"):
        kernels.fp32_to_fp16(F32, isa=missing[0])


# ------------------------------------------------------------------------------------ ISA choice

def run_python(code: str, isa_env: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "EDGEPACK_ISA"}
    if isa_env is not None:
        env["EDGEPACK_ISA"] = isa_env
    pkg_parent = str(Path(kernels.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([pkg_parent, env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                          check=False)


PROBE = ("import numpy as np; from edgepack import kernels as k; "
         "k.normalize(np.zeros((2, 3, 3), np.uint8), 0, 1); "
         "print(k.active_isa(), k.last_isa(), repr(k.isa_info()['note']))")


def test_default_isa_is_best_available():
    r = run_python(PROBE, None)
    assert r.returncode == 0, r.stderr
    best = kernels.available_isas()[-1]
    assert r.stdout.split()[:2] == [best, best]
    if platform.machine().lower() in ("x86_64", "amd64") and kernels.isa_info()["cpu"]["avx2"]:
        assert best == "avx2"


@pytest.mark.parametrize("name", ALL)
def test_env_forces_isa(name):
    need(name)
    r = run_python(PROBE, name)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [name, name, "''"]  # active, and the ISA that actually ran the kernel
    assert "edgepack:" not in r.stderr


@pytest.mark.parametrize("value", ["unavailable", "sse9"])
def test_env_naming_a_missing_isa_falls_back_to_ref_and_says_so(value):
    if value == "unavailable":
        missing = [i for i in SIMD if i not in kernels.available_isas()]
        if not missing:
            pytest.skip("every ISA is available here")
        value = missing[0]
    r = run_python(PROBE, value)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:2] == ["ref", "ref"]
    assert f"edgepack: EDGEPACK_ISA={value} is not" in r.stderr
    assert "using the ref kernels" in r.stdout


def test_last_isa_follows_forced_calls(isa):
    kernels.fp16_to_fp32(np.zeros(3, np.float16), isa=isa)
    assert kernels.last_isa() == isa
    kernels.fp16_to_fp32(np.zeros(3, np.float16))
    assert kernels.last_isa() == kernels.active_isa()


def test_import_edgepack_does_not_load_the_core():
    r = run_python("import sys, edgepack, edgepack.runtime.kernels; print('edgepack._core' in sys.modules)", None)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"
