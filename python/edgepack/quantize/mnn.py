"""MNN int8 through MNN's offline quantizer, called as `_tools.mnnquant(["mnnquant", src, dst, config])` in a
child process (never `MNN.tools`, which pip-installs telemetry; the console wrapper crashes in 3.6.1).
It is fed our calibration tensors, already preprocessed by our PreprocessSpec (or taken from the .npz), in
MNN's "sequence" input mode: one folder per sample holding `<input>.txt` and `input.json`. Activations
use MNN's KL (its histogram method), weights MAX_ABS per channel. Layers the gate keeps in float go to
`skip_quant_op_names`, and so do the ops MNN's quantizer is known to damage (quantize/mnn_limits.py: convs
whose tiny per-channel weights make it zero their bias), before any gate. With `mnn_weight_only` the
weights are stored int8 (MNN's converter, --weightQuantBits 8) and activations stay float."""

from __future__ import annotations

import copy
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from edgepack.converters.base import run_tool
from edgepack.errors import ConversionError, EngineUnavailableError
from edgepack.runtime._fsutil import private_prefix
from edgepack.runtime.artifact import Artifact

_QUANT = "import sys, _tools; sys.exit(0 if _tools.mnnquant(sys.argv[1:]) else 3)"
_CONVERT = "import sys, _tools; sys.exit(0 if _tools.mnnconvert(sys.argv[1:]) else 3)"
SENSITIVITY_PROBES = 24  # leave-one-out builds at most; the rest keep their graph order


class MnnInt8:
    engine = "mnn"

    def __init__(self, fp32: Artifact, calib: list[dict[str, np.ndarray]], opts) -> None:
        import importlib.util

        if importlib.util.find_spec("_tools") is None:
            raise EngineUnavailableError("MNN's quantizer is not installed; install it with: pip install mnn")
        self.fp32, self.opts = fp32, opts
        self.weight_only = bool(getattr(opts, "mnn_weight_only", False))
        self.method = ("MNN weight-only int8 (--weightQuantBits 8)" if self.weight_only
                       else "MNN mnnquant, activations: KL, weights: MAX_ABS per channel")
        self._tmp = tempfile.TemporaryDirectory(prefix=private_prefix("mnnquant"))
        self.work = Path(self._tmp.name)
        self.layers: list[str] = []
        self.pinned_float: list[str] = []  # kept in float whatever the gate says
        if not self.weight_only:
            from edgepack.quantize.mnn_limits import bias_dropping_convs

            self._write_samples(calib)
            probe = self._quantize(set(), self.work / "probe.mnn")
            ops = _weight_ops(probe.with_name(probe.name + ".json"), fp32)
            prepared = _prepared_onnx(fp32)
            damaged = bias_dropping_convs(prepared) if prepared else {}
            self.pinned_float = [o for o in ops if o in damaged]
            self.layers = [o for o in ops if o not in damaged]
            if self.pinned_float:
                self.method += "; kept in float (MNN's quantizer zeroes their bias): " + "; ".join(
                    damaged[o] for o in self.pinned_float)

    def _write_samples(self, calib: list[dict[str, np.ndarray]]) -> None:
        root = self.work / "calib"
        for i, feeds in enumerate(calib):
            d = root / f"{i:05d}"
            d.mkdir(parents=True)
            info = []
            for t in self.fp32.inputs:
                a = np.asarray(feeds[t.name], np.float32)
                np.savetxt(d / f"{t.engine_name or t.name}.txt", a.reshape(-1, a.shape[-1] if a.ndim else 1),
                           fmt="%.8g")
                info.append({"name": t.engine_name or t.name, "shape": list(a.shape)})
            (d / "input.json").write_text(json.dumps({"inputs": info,
                                                      "outputs": [t.engine_name or t.name for t in self.fp32.outputs]}))
        self.samples = len(calib)

    def _quantize(self, skip: set[str], dst: Path) -> Path:
        shape = self.fp32.inputs[0].shape
        cfg = {"format": "RGB", "mean": [0.0, 0.0, 0.0], "normal": [1.0, 1.0, 1.0],
               "width": int(shape[-1]) if shape else 1, "height": int(shape[-2]) if len(shape) > 1 else 1,
               "path": str(self.work / "calib") + "/", "used_sample_num": self.samples, "input_type": "sequence",
               "feature_quantize_method": "KL", "weight_quantize_method": "MAX_ABS",
               "skip_quant_op_names": sorted(set(skip) | set(getattr(self, "pinned_float", [])))}
        cfg_path = self.work / "quant.json"
        cfg_path.write_text(json.dumps(cfg))
        log = run_tool([sys.executable, "-c", _QUANT, "mnnquant", str(self.fp32.path("model")), str(dst),
                        str(cfg_path)], self.work, "MNN quantizer")
        if not dst.exists() or dst.stat().st_size == 0:
            raise ConversionError(f"mnn: the quantizer wrote no model; its output ended: {log[-400:]}")
        return dst

    def build(self, out_dir: Path, skip: set[str]) -> Artifact:
        out_dir.mkdir(parents=True, exist_ok=True)
        dst = out_dir / self.fp32.files["model"]
        if self.weight_only:
            run_tool([sys.executable, "-c", _CONVERT, "mnnconvert", "-f", "MNN", "--modelFile",
                      str(self.fp32.path("model")), "--MNNModel", str(dst), "--weightQuantBits", "8",
                      "--bizCode", "edgepack"], self.work, "MNN converter (weight-only int8)")
            if not dst.exists():
                raise ConversionError("mnn: the converter wrote no weight-only int8 model")
        else:
            self._quantize(skip, dst)
            dst.with_name(dst.name + ".json").unlink(missing_ok=True)
        art = copy.deepcopy(self.fp32)
        art.precision, art.directory = "int8", str(out_dir)
        art.converter = "mnnconvert+mnnquant" + ("(weight-only)" if self.weight_only else "")
        art.finalize()
        return art

    def layer_errors(self, int8: Artifact, feeds: list[dict[str, np.ndarray]]) -> dict[str, float]:
        """MNN's Module API cannot return intermediate tensors of a converted graph, so the error each layer
        adds is measured leave-one-out: 1 - cosine (vs the fp32 MNN model) of the all-int8 model minus that
        of the model with only this layer in float."""
        from edgepack.runtime.metrics import agreement
        from edgepack.verify.parity import run_artifact_isolated

        ref = run_artifact_isolated(self.fp32, feeds)

        def err(art: Artifact) -> float:
            got = run_artifact_isolated(art, feeds)
            worst = 0.0
            for name in ref[0]:
                a = agreement(np.concatenate([r[name].ravel() for r in ref]),
                              np.concatenate([g[name].ravel() for g in got]))
                worst = max(worst, 1.0 - a.cosine if np.isfinite(a.cosine) else 2.0)
            return worst

        base = err(int8)
        out = {}
        probe_dir = self.work / "probe"
        for i, name in enumerate(self.layers):
            if i >= SENSITIVITY_PROBES:
                out[name] = -1.0 - i  # not probed: after the probed ones, in graph order
                continue
            out[name] = base - err(self.build(probe_dir, {name}))
        shutil.rmtree(probe_dir, ignore_errors=True)
        return out


def _weight_ops(table: Path, fp32: Artifact) -> list[str]:
    """Names of the ops MNN quantized that carry weights (convolutions and matmuls), in graph order."""
    import onnx

    try:
        ops = [o["name"] for o in json.loads(table.read_text())]
    except (OSError, ValueError) as e:
        raise ConversionError(f"mnn: the quantizer wrote no readable scale table ({e})") from e
    prepared = _prepared_onnx(fp32)
    weighted = set()
    if prepared is not None:
        g = onnx.load(str(prepared), load_external_data=False).graph
        weighted = {n.output[0] for n in g.node if n.op_type in ("Conv", "ConvTranspose", "Gemm", "MatMul")}
    return [o for o in ops if o in weighted or o.endswith("__matmul_converted")]


def _prepared_onnx(fp32: Artifact) -> Path | None:
    """The prepared ONNX model the fp32 artifact came from (convert's work directory layout)."""
    for p in (Path(fp32.directory).parent.parent / "model.onnx", Path(fp32.directory).parent / "model.onnx"):
        if p.exists():
            return p
    return None
