"""ONNX -> MNN through MNN's own converter, called via the C entry point in the `_tools` module of the `mnn`
wheel, in a child process (a converter crash must not kill edgepack). Never through `MNN.tools`, which
pip-installs a telemetry package on import. MNN keeps the ONNX tensor names."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import sys
import tempfile
import time
from pathlib import Path

from edgepack.converters.base import Converter, run_tool
from edgepack.converters.prepare import PreparedModel
from edgepack.errors import ConversionError, EngineUnavailableError, UnsupportedOpError
from edgepack.runtime._fsutil import private_prefix
from edgepack.runtime.artifact import Artifact, TensorInfo

_CALL = "import sys, _tools; sys.exit(0 if _tools.mnnconvert(sys.argv[1:]) else 3)"
# MNN 3.x prints e.g. "These Op Not Support: ONNX::Hardmax ONNX::Det" and still returns success.
_UNSUPPORTED = re.compile(r"Op Not Support:\s*(.*)", re.IGNORECASE)


class MnnConverter(Converter):
    name = "mnnconvert"
    engine = "mnn"

    def version(self) -> str:
        try:
            return importlib.metadata.version("mnn")
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    def convert(self, prepared: PreparedModel, out_dir: Path, precision: str) -> Artifact:
        if importlib.util.find_spec("_tools") is None:
            raise EngineUnavailableError("the MNN converter is not installed; install it with: pip install mnn")
        out_dir.mkdir(parents=True, exist_ok=True)
        dst = out_dir / "model.mnn"
        args = ["mnnconvert", "-f", "ONNX", "--modelFile", str(prepared.path), "--MNNModel", str(dst),
                "--bizCode", "edgepack"]
        # Not --keepInputFormat: with it, MNN 3.6.1's Module API returned wrong values after
        # GlobalAveragePool -> Flatten -> Gemm (tests/test_engines.py::test_adapter_runs_with_onnx_names).
        if precision == "fp16":
            args.append("--fp16")
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=private_prefix("mnn")) as tmp:
            try:
                log = run_tool([sys.executable, "-c", _CALL, *args], Path(tmp), "MNN converter")
            except ConversionError as e:
                _raise_unsupported(str(e), prepared)
                raise
        seconds = time.perf_counter() - t0
        _raise_unsupported(log, prepared)
        if not dst.exists() or dst.stat().st_size == 0:
            raise ConversionError(f"mnn: the converter wrote no model; its output ended: {log[-400:]}")
        art = Artifact(
            engine="mnn", precision=precision, directory=str(out_dir), files={"model": "model.mnn"},
            inputs=[TensorInfo(t.name, t.shape, t.dtype, t.name, "NCHW" if len(t.shape) == 4 else "")
                    for t in prepared.inputs],
            outputs=[TensorInfo(t.name, t.shape, t.dtype, t.name, "NCHW" if len(t.shape) == 4 else "")
                     for t in prepared.outputs],
            converter=self.name, converter_version=self.version(), convert_seconds=seconds)
        art.finalize()
        return art


def _raise_unsupported(log: str, prepared: PreparedModel) -> None:
    import onnx

    m = _UNSUPPORTED.search(log)
    if not m:
        if "Converted Failed" in log:
            raise ConversionError(f"mnn: MNN's converter failed: {log.strip().splitlines()[-2:]}")
        return
    ops = [o.split("::")[-1] for o in m.group(1).split()]
    op = ops[0] if ops else "?"
    nodes = onnx.load(str(prepared.path), load_external_data=False).graph.node
    node = next((n for n in nodes if n.op_type == op), None)
    if node is None:
        node = next((n for n in nodes if n.name == op), None)
    if node is not None:
        raise UnsupportedOpError("mnn", node.op_type, node.name or "(unnamed)", "MNN's converter has no "
                                 "implementation for it")
    raise UnsupportedOpError("mnn", op, "?", "MNN's converter reported it as unsupported")
