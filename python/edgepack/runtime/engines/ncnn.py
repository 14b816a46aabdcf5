"""ncnn (PyPI `ncnn`). pnnx names tensors in0../out0..; the artifact maps them back to ONNX names.
ncnn Mats carry no batch dimension, so a leading batch of 1 is dropped on the way in and restored on the
way out. Parity with fp32 needs ncnn's fp16 storage/arithmetic switched off."""

from __future__ import annotations

import numpy as np

from edgepack.errors import InputError
from edgepack.runtime.artifact import Artifact
from edgepack.runtime.engines.base import Engine


class NcnnEngine(Engine):
    name = "ncnn"
    package = "ncnn"

    def _load(self, artifact: Artifact, threads: int, device: str) -> None:
        import ncnn

        net = ncnn.Net()
        fp16 = artifact.precision == "fp16"  # int8 artifacts keep their non-int8 layers in fp32
        opt = net.opt
        opt.num_threads = threads
        opt.use_fp16_storage = fp16
        opt.use_fp16_arithmetic = fp16
        opt.use_fp16_packed = fp16
        if device == "vulkan":
            if ncnn.get_gpu_count() == 0:
                raise InputError("ncnn: no Vulkan device found; use device='cpu' or install a Vulkan driver")
            opt.use_vulkan_compute = True
        if net.load_param(str(artifact.path("param"))) != 0:
            raise InputError(f"ncnn could not load {artifact.path('param')}: the file is corrupt or uses a "
                             "layer this ncnn build lacks; reconvert with edgepack convert")
        if net.load_model(str(artifact.path("bin"))) != 0:
            raise InputError(f"ncnn could not load {artifact.path('bin')}: the file is corrupt or truncated; "
                             "reconvert with edgepack convert")
        self._ncnn, self._net = ncnn, net

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        blobs = self.extract(feeds, [t.engine_name for t in self.outputs])
        out = {}
        for t in self.outputs:
            arr = blobs[t.engine_name]
            if arr.size != int(np.prod(t.shape)):
                raise RuntimeError(f"ncnn output '{t.name}' has {arr.size} elements, expected shape {t.shape}")
            out[t.name] = arr.astype(t.dtype, copy=False)
        return out

    def extract(self, feeds: dict[str, np.ndarray], blobs: list[str]) -> dict[str, np.ndarray]:
        """Run once and return ncnn blobs by their ncnn names (intermediate blobs too: calibration and
        per-layer diagnosis read them). Feeds are by ONNX input name, already checked by run()."""
        ncnn = self._ncnn
        ex = self._net.create_extractor()
        if len(blobs) > len(self.outputs):
            ex.set_light_mode(False)  # keep intermediate blobs instead of recomputing them per extract
        keep = []  # inputs must outlive the extractor
        for t in self.inputs:
            a = feeds[t.name]
            if a.ndim >= 2 and a.shape[0] == 1:
                a = a[0]  # pnnx treats a leading 1 as the batch, which ncnn Mats do not carry
            if a.ndim > 4:
                raise InputError(f"ncnn tensors have at most 4 dims: input '{t.name}' has shape "
                                 f"{list(feeds[t.name].shape)}; reshape it before export")
            a = np.ascontiguousarray(a, dtype=np.float32)
            keep.append(a)
            mat = ncnn.Mat(a).clone()
            keep.append(mat)
            ex.input(t.engine_name, mat)
        out = {}
        for name in blobs:
            ret, mat = ex.extract(name)
            if ret != 0:
                raise RuntimeError(f"ncnn failed to compute blob '{name}', code {ret}")
            out[name] = np.array(mat, copy=True)
        return out

    def close(self) -> None:
        if getattr(self, "_net", None) is not None:
            self._net.clear()
            self._net = None
