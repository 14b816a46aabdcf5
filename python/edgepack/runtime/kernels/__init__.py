"""Image and tensor kernels from the C++ core (``edgepack._core``): scalar ref, AVX2 and NEON paths.

Every function reads numpy arrays in place (no copy) and releases the GIL while the kernel runs. The
ISA is chosen once per process: the best one this build and CPU support, or the one named by the
environment variable ``EDGEPACK_ISA=ref|avx2|neon``. If ``EDGEPACK_ISA`` names an ISA that is missing
here (or an unknown name), the ref kernels are used and one line on stderr says why
(``isa_info()["note"]`` holds the same text); the ref path is the specification, so results stay
correct. ``isa="ref"`` etc. on a single call forces that path for that call, and raises if it is not
available (tests and benchmarks compare paths this way).

Mistakes in the arguments (dtype, shape, strides, sizes, ``out``) raise :class:`KernelArgumentError`,
which is both an :class:`edgepack.InputError` and a :class:`ValueError`; nothing is read or written
out of bounds.

``import edgepack`` does not load the C++ core; the first call into this module does.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any, Literal

import numpy as np

from edgepack.errors import InputError

IsaName = Literal["ref", "avx2", "neon"]
DeviceName = Literal["cpu", "vulkan"]

__all__ = [
    "KernelArgumentError",
    "active_isa",
    "available_isas",
    "fp16_to_fp32",
    "fp32_to_fp16",
    "isa_info",
    "last_device",
    "last_isa",
    "normalize",
    "PreprocessInfo",
    "preprocess",
    "vulkan_devices",
    "vulkan_info",
    # post-processing (kernels/post.py)
    "abs_max",
    "decode_yolo",
    "histogram",
    "nms",
    "seg_argmax",
    "softmax",
    "topk",
]


class KernelArgumentError(InputError, ValueError):
    """An argument to a kernel has the wrong dtype, shape, strides or size; the message says what is expected."""


def _core() -> ModuleType:
    try:
        from edgepack import _core as core
    except ImportError as e:
        raise ImportError(
            "edgepack._core (the C++ core) is not built in this installation; "
            "install edgepack from a wheel or run `pip install .` in a source checkout"
        ) from e
    return core


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except ValueError as e:
        raise KernelArgumentError(str(e)) from None


def active_isa() -> str:
    """The ISA used by calls without ``isa=``: "ref", "avx2" or "neon" (fixed for the process)."""
    return _core().active_isa()


def available_isas() -> list[str]:
    """ISAs compiled into this build and supported by this CPU, "ref" first and the best last."""
    return _core().available_isas()


def last_isa() -> str:
    """The ISA that ran the most recent kernel call made by this thread."""
    return _core().last_isa()


def isa_info() -> dict[str, Any]:
    """Everything about ISA selection: active, available, compiled, cpu features, and the fallback note."""
    core = _core()
    return {
        "active": core.active_isa(),
        "available": core.available_isas(),
        "compiled": core.compiled_isas(),
        "cpu": core.cpu_features(),
        "note": core.isa_note(),
    }


def fp32_to_fp16(a: np.ndarray, *, out: np.ndarray | None = None, isa: IsaName | None = None) -> np.ndarray:
    """float32 array (C-contiguous, any shape) -> float16, rounding to nearest even.

    Bit-identical to ``a.astype(np.float16)`` except for signalling NaNs, which come back quieted
    (as F16C and ARM FCVT do). ``out``: a C-contiguous float16 array of the same shape to write into.
    """
    return _call(_core().fp32_to_fp16, a, out=out, isa=isa)


def fp16_to_fp32(a: np.ndarray, *, out: np.ndarray | None = None, isa: IsaName | None = None) -> np.ndarray:
    """float16 array (C-contiguous, any shape) -> float32, exactly (signalling NaNs come back quieted)."""
    return _call(_core().fp16_to_fp32, a, out=out, isa=isa)


def _per_channel(name: str, values: float | Sequence[float] | np.ndarray) -> list[float]:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise KernelArgumentError(
            f"normalize: {name} must be a number or a sequence of numbers, got {values!r}"
        ) from None
    if arr.ndim > 1:
        raise KernelArgumentError(f"normalize: {name} must be a number or a 1-D sequence, got shape {arr.shape}")
    return [float(v) for v in arr.reshape(-1)]


def normalize(
    img: np.ndarray,
    mean: float | Sequence[float] | np.ndarray,
    std: float | Sequence[float] | np.ndarray,
    *,
    channels: Sequence[int] | None = None,
    out: np.ndarray | None = None,
    isa: IsaName | None = None,
    device: DeviceName = "cpu",
) -> np.ndarray:
    """uint8 image (H, W) or (H, W, C), C in 1/3/4 -> float32 planes (C_out, H, W).

    ``out[c, y, x] = (float32(img[y, x, channels[c]]) - mean[c]) * float32(1 / std[c])`` in float32 on
    every ISA (bit-identical across paths; within ~1 ulp of ``(v - mean) / std``). ``channels`` picks
    and orders input channels (default: all, in order): ``(2, 1, 0)`` turns BGR into RGB planes,
    ``(0, 1, 2)`` drops alpha from RGBA. ``mean``/``std``: one value, or one per output channel.
    Rows may be padded (e.g. a crop of a larger image): only pixels within a row must be packed.
    ``out``: a C-contiguous float32 array of shape (C_out, H, W) to write into.
    ``device="vulkan"`` runs the compute shader (bit-identical to the CPU paths); see :func:`vulkan_info`.
    """
    ch = None if channels is None else [int(c) for c in channels]
    return _call(
        _core().normalize, img, _per_channel("mean", mean), _per_channel("std", std),
        channels=ch, out=out, isa=isa, device=device,
    )


# ---------------------------------------------------------------------------------------------- Vulkan
# Kernels taking ``device="vulkan"`` run a compute shader on the device chosen once per process
# (EDGEPACK_VULKAN_DEVICE=<index> picks one of vulkan_devices(); EDGEPACK_VULKAN=0 disables Vulkan).
# Without a usable device they run on the CPU instead and print one line on stderr, once per process;
# last_device() tells which one ran.


def vulkan_info() -> dict[str, Any]:
    """Vulkan status: ``built`` (compiled in), ``available`` (a device is ready), ``device`` (its name or
    None), ``note`` (why not, or "not built: ..."; also notes an ignored EDGEPACK_VULKAN_DEVICE)."""
    core = _core()
    available = core.vulkan_available()
    device = next((d["name"] for d in core.vulkan_devices() if d["selected"]), None) if available else None
    return {"built": core.vulkan_built(), "available": available, "device": device, "note": core.vulkan_note()}


def vulkan_devices() -> list[dict[str, Any]]:
    """Every Vulkan device the loader reports: index, name, type (discrete/integrated/virtual/cpu/other),
    api_version, vendor_id, device_id, compute, selected. Empty without Vulkan."""
    return _core().vulkan_devices()


def last_device() -> str:
    """Where the most recent ``device="vulkan"`` call of this thread ran: "vulkan", or "cpu" after a fallback."""
    return _core().last_device()


# preprocess and the post-processing kernels live in their own modules (kernels/pre.py, kernels/post.py);
# re-exported here, imported last because they use the helpers above.
from edgepack.runtime.kernels.post import abs_max, decode_yolo, histogram, nms, seg_argmax, softmax, topk  # noqa: E402
from edgepack.runtime.kernels.pre import PreprocessInfo, preprocess  # noqa: E402
