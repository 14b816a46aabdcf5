"""Target: the C++ kernels' argument checking through the bindings (preprocess, normalize): arbitrary shapes,
dtypes, strides (non-contiguous views), formats, sizes and options must give KernelArgumentError, never a
read or write out of bounds (run it with the ASan build of the core to see those: docs/fuzzing.md)."""

from __future__ import annotations

import atheris
import numpy as np
from expect import rejected_cleanly

from edgepack.runtime import kernels

FORMATS = ["RGB888", "BGR888", "RGBA8888", "BGRA8888", "GRAY8", "NV21", "NV12", "I420", "bogus"]


def _array(fdp: atheris.FuzzedDataProvider) -> np.ndarray:
    ndim = fdp.ConsumeIntInRange(0, 4)
    shape = [fdp.ConsumeIntInRange(0, 40) for _ in range(ndim)]
    dtype = fdp.PickValueInList([np.uint8, np.uint8, np.float32, np.int16])
    n = int(np.prod(shape)) if shape else 1
    a = np.frombuffer(fdp.ConsumeBytes(n * np.dtype(dtype).itemsize).ljust(n * np.dtype(dtype).itemsize, b"\0"),
                      dtype=dtype).reshape(shape).copy()
    if ndim >= 2 and fdp.ConsumeBool():
        a = a[:, ::2] if fdp.ConsumeBool() else a[::-1]
    return a


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    if fdp.ConsumeBool():
        src = _array(fdp)
        planes = [src] if fdp.ConsumeBool() else [src, _array(fdp)]
        kw = dict(format=fdp.PickValueInList(FORMATS),
                  out_size=(fdp.ConsumeIntInRange(-1, 48), fdp.ConsumeIntInRange(-1, 48)),
                  width=fdp.PickValueInList([None, fdp.ConsumeIntInRange(-2, 64)]),
                  height=fdp.PickValueInList([None, fdp.ConsumeIntInRange(-2, 64)]),
                  mode=fdp.PickValueInList(["stretch", "letterbox", "crop"]),
                  rotate=fdp.PickValueInList([0, 90, 180, 270, 1]),
                  mean=fdp.PickValueInList([0.0, [1.0, 2.0, 3.0], [1.0, 2.0]]),
                  std=fdp.PickValueInList([1.0, 0.0, [1.0, 1.0, 1.0]]))
        with rejected_cleanly("preprocess"):
            kernels.preprocess(planes if len(planes) > 1 else planes[0], **kw)
    else:
        img = _array(fdp)
        with rejected_cleanly("normalize"):
            kernels.normalize(img, mean=fdp.PickValueInList([0.0, [1.0, 2.0, 3.0], [1.0]]),
                              std=fdp.PickValueInList([1.0, 0.0, [2.0, 2.0, 2.0]]))
