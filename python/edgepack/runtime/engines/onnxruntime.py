"""ONNX Runtime: the reference every other engine is compared with."""

from __future__ import annotations

import numpy as np

from edgepack.runtime.artifact import Artifact
from edgepack.runtime.engines.base import Engine


class OnnxRuntimeEngine(Engine):
    name = "onnxruntime"
    package = "onnxruntime"

    def _load(self, artifact: Artifact, threads: int, device: str) -> None:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.log_severity_level = 4  # fatal only: a load failure is reported once, as an edgepack error
        self._sess = ort.InferenceSession(str(artifact.path("model")), so, providers=["CPUExecutionProvider"])

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        names = [t.name for t in self.outputs]
        return dict(zip(names, self._sess.run(names, feeds)))

    def close(self) -> None:
        self._sess = None
