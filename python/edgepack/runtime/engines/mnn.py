"""MNN (PyPI `mnn`) through its Module API. MNN keeps the ONNX tensor names. Never import MNN.tools: it
pip-installs a telemetry package at import time."""

from __future__ import annotations

import numpy as np

from edgepack.runtime.artifact import Artifact
from edgepack.runtime.engines.base import Engine

_PRECISION = {"fp32": "high", "fp16": "low", "int8": "normal"}


class MnnEngine(Engine):
    name = "mnn"
    package = "mnn"

    def _load(self, artifact: Artifact, threads: int, device: str) -> None:
        from edgepack.runtime._quiet import quiet_stdout

        with quiet_stdout():
            import MNN.expr as F
            import MNN.nn as nn

        config = {"precision": _PRECISION.get(artifact.precision, "normal"), "numThread": threads,
                  "backend": "CPU" if device == "cpu" else device.upper()}
        with quiet_stdout():
            rt = nn.create_runtime_manager((config,))
        names_in = [t.engine_name or t.name for t in self.inputs]
        names_out = [t.engine_name or t.name for t in self.outputs]
        self._mod = nn.load_module_from_file(str(artifact.path("model")), names_in, names_out,
                                             runtime_manager=rt)
        if self._mod is None:
            raise RuntimeError(f"MNN could not load {artifact.path('model')}")
        self._F = F

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        F = self._F
        args = []
        for t in self.inputs:
            a = feeds[t.name]
            # MNN's const() takes int32 or float32 only: bools and ints go as int32, other floats as float32
            is_int = a.dtype.kind in "iub"
            dtype = F.int if is_int else F.float
            a = a.astype(np.int32) if is_int else a.astype(np.float32, copy=False)
            # NCHW for every rank: MNN returned no outputs for a 3-D NHWC-tagged input (tests/test_zoo.py lstm)
            args.append(F.const(a, list(a.shape), F.NCHW, dtype))
        outs = self._mod.forward(args)
        if not isinstance(outs, (list, tuple)):
            outs = [outs]
        if len(outs) != len(self.outputs):
            raise RuntimeError(f"MNN returned {len(outs)} outputs, the model has {len(self.outputs)}")
        res = {}
        for t, v in zip(self.outputs, outs):
            if v.data_format == F.NC4HW4:
                v = F.convert(v, F.NCHW)
            res[t.name] = np.array(v.read(), copy=True).astype(t.dtype, copy=False)
        return res

    def close(self) -> None:
        self._mod = None
