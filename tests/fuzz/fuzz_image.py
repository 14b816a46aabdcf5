"""Target: the image input path of Session.run: an image file decoded (Pillow) and preprocessed by the C++
kernel, and a camera Frame (NV21/NV12, any size/rotation) built from the same bytes."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import atheris
from expect import rejected_cleanly

from edgepack.runtime.pipeline.pre import Preprocessor, load_image
from edgepack.runtime.pipeline.results import Frame
from edgepack.runtime.pipeline.spec import PreprocessSpec

_DIR = Path(tempfile.mkdtemp(prefix="edgepack-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
atexit.register(shutil.rmtree, _DIR, True)
_SPEC = PreprocessSpec("x", 32, 24, resize="letterbox", mean=[127.5], std=[127.5])
_PRE = Preprocessor(_SPEC, _SPEC.input_shape(), "float32")


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    mode = fdp.ConsumeIntInRange(0, 1)
    if mode == 0:
        path = _DIR / "img"
        path.write_bytes(fdp.ConsumeBytes(fdp.remaining_bytes()))
        with rejected_cleanly("image file"):
            _PRE(load_image(path))
        return
    w, h = fdp.ConsumeIntInRange(-2, 80), fdp.ConsumeIntInRange(-2, 80)
    fmt = fdp.PickValueInList(["NV21", "NV12", "nv21", "I420", ""])
    rot = fdp.PickValueInList([0, 90, 180, 270, 45, -90])
    raw = fdp.ConsumeBytes(fdp.remaining_bytes())
    with rejected_cleanly("frame"):
        _PRE(Frame(raw, w, h, fmt, rot))
