"""OpenVINO (PyPI `openvino`) on its CPU plugin. The IR keeps the ONNX tensor names, so inputs and outputs are
looked up by name. The inference precision is set from the artifact, never left to the plugin: on CPUs with
bf16 or AMX OpenVINO computes in bf16 by default, which is not what an fp32 artifact promises.
fp32 and int8 artifacts compute in f32 (int8 ones keep their non-quantized ops in f32, as ncnn and MNN do).
fp16 artifacts (f16 weights) compute in f16 on ARM, where that is OpenVINO's own default and the cores have
fp16 arithmetic, and in f32 on x86: on this machine's Xeon (AVX512-FP16, AMX-BF16) OpenVINO's f16 kernels took
2.6x the f32 time on PP-OCRv4 det (tools/bench/openvino_engines.py, README engine notes)."""

from __future__ import annotations

import platform
import sys

import numpy as np

from edgepack.errors import InputError
from edgepack.runtime.artifact import Artifact
from edgepack.runtime.engines.base import Engine

F16_MACHINES = ("aarch64", "arm64")


def inference_precision(precision: str, machine: str | None = None) -> str:
    """OpenVINO's INFERENCE_PRECISION_HINT for an artifact of `precision` on `machine` (see the docstring)."""
    machine = (machine or platform.machine()).lower()
    return "f16" if precision == "fp16" and machine in F16_MACHINES else "f32"


def import_openvino():
    """`openvino`, with its telemetry package made unimportable first. `import openvino` loads
    openvino_telemetry, and the converter sends usage events to Google Analytics unless the user opted out;
    openvino falls back to a no-op stub when the package cannot be imported, and so does nncf."""
    if "openvino_telemetry" not in sys.modules:
        sys.modules["openvino_telemetry"] = None  # type: ignore[assignment]  # import now raises ImportError
    import openvino

    return openvino


class OpenVinoEngine(Engine):
    name = "openvino"
    package = "openvino"

    def _load(self, artifact: Artifact, threads: int, device: str) -> None:
        if device != "cpu":
            raise InputError(f"openvino: device '{device}' is not supported by edgepack's OpenVINO adapter; "
                             "use device='cpu'")
        ov = import_openvino()
        core = ov.Core()
        xml, binf = artifact.path("xml"), artifact.path("bin")
        try:
            model = core.read_model(str(xml), str(binf))
        except RuntimeError as e:
            raise InputError(f"openvino could not read {xml}: the file is corrupt or was written by a newer "
                             f"OpenVINO ({_first_line(e)}); reconvert with edgepack convert") from e
        config = {"INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY",
                  "INFERENCE_PRECISION_HINT": inference_precision(artifact.precision)}
        self._compiled = core.compile_model(model, "CPU", config)
        self._request = self._compiled.create_infer_request()
        ports_in = {n for p in self._compiled.inputs for n in p.get_names()}
        ports_out = {n for p in self._compiled.outputs for n in p.get_names()}
        for t, ports, what in [(t, ports_in, "input") for t in self.inputs] + \
                              [(t, ports_out, "output") for t in self.outputs]:
            if (t.engine_name or t.name) not in ports:
                raise InputError(f"openvino: the IR has no {what} named '{t.engine_name or t.name}' (it has "
                                 f"{sorted(ports)}); the artifact does not belong to this model, reconvert it")
        self._in = [(t.name, self._compiled.input(t.engine_name or t.name), tuple(t.shape)) for t in self.inputs]
        self._out = [(t.name, self._compiled.output(t.engine_name or t.name)) for t in self.outputs]

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        for name, port, shape in self._in:
            # reshape: a 0-d input arrives as shape (1,) from np.ascontiguousarray, which OpenVINO refuses
            self._request.set_tensor(port, self._ov_tensor(np.asarray(feeds[name]).reshape(shape)))
        try:
            self._request.infer()
        except RuntimeError as e:  # OpenVINO puts the source location first and the reason after it
            raise RuntimeError(f"openvino: {readable_error(str(e))}") from None
        # copy: the request reuses its output buffers on the next run
        return {name: np.array(self._request.get_tensor(port).data, copy=True) for name, port in self._out}

    @staticmethod
    def _ov_tensor(a: np.ndarray):
        import openvino

        return openvino.Tensor(a if a.flags.c_contiguous else a.copy(), shared_memory=False)

    def close(self) -> None:
        self._request = None
        self._compiled = None


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [""])[-1][:300]


def readable_error(text: str) -> str:
    """OpenVINO's message, on one line, without its "Exception from <file>" / "Check ... failed at <file>" lines."""
    keep = [ln.strip() for ln in text.splitlines()
            if ln.strip() and not ln.startswith(("Exception from src/", "Check '"))]
    return " ".join(keep)[:400] or "OpenVINO gave no message"
