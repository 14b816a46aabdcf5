"""OpenVINO int8 through NNCF post-training quantization (`nncf.quantize`) of the fp32 IR, fed edgepack's own
calibration tensors (already preprocessed by our PreprocessSpec, or taken from the .npz). NNCF inserts
FakeQuantize ops that OpenVINO's CPU plugin runs as int8 kernels. Layers the gate keeps in float go to NNCF's
ignored scope (by node name). Everything that imports openvino or nncf runs in a child process, with the
telemetry package and torch made unimportable there: nncf sends usage events through openvino_telemetry
unless opted out, and imports torch (5 s, nothing it needs for OpenVINO models) whenever torch is installed.

Activations: NNCF's MIXED preset (asymmetric activations, symmetric per-channel weights); the `observer`
option picks NNCF's range estimator where one matches (minmax -> MINMAX, percentile -> QUANTILE), else NNCF's
default (edgepack's kl/aciq observers are histogram methods NNCF does not offer)."""

from __future__ import annotations

import copy
import pickle
import sys
import tempfile
from pathlib import Path

import numpy as np

from edgepack.errors import EngineUnavailableError, ModelError
from edgepack.runtime._fsutil import private_prefix
from edgepack.runtime._isolate import call_isolated
from edgepack.runtime.artifact import Artifact

# The ops NNCF quantizes with weights, i.e. those a user would keep in float.
WEIGHTED_OPS = ("Convolution", "GroupConvolution", "ConvolutionBackpropData", "GroupConvolutionBackpropData",
                "MatMul")
_ESTIMATORS = {"minmax": "MINMAX", "percentile": "QUANTILE"}


def _import_nncf():
    """nncf (and openvino) without telemetry or torch. Only for the child processes this module starts."""
    from edgepack.runtime.engines.openvino import import_openvino

    if "torch" not in sys.modules:
        sys.modules["torch"] = None  # type: ignore[assignment]  # nncf then treats torch as absent
    ov = import_openvino()
    import nncf

    return ov, nncf


def weighted_layers(xml: str) -> list[tuple[str, str, str, int]]:
    """(name, op type, producer of its data input, that producer's output port) of every op with constant
    weights, in graph order. Runs inside call_isolated."""
    from edgepack.runtime.engines.openvino import import_openvino

    model = import_openvino().Core().read_model(xml)
    out = []
    for op in model.get_ordered_ops():
        if op.get_type_name() not in WEIGHTED_OPS:
            continue
        data = [v for v in op.inputs() if not _is_constant(v.get_source_output().get_node())]
        if len(data) != 1:  # MatMul of two activations: NNCF does not quantize it as a weighted layer
            continue
        src = data[0].get_source_output()
        out.append((op.get_friendly_name(), op.get_type_name(), src.get_node().get_friendly_name(), src.get_index()))
    return out


def _is_constant(node) -> bool:
    """A Constant, possibly behind the Convert/Reshape/Multiply chains that decompress stored weights."""
    seen = 0
    while node.get_type_name() != "Constant":
        if node.get_type_name() not in ("Convert", "Reshape", "Multiply", "Subtract", "Transpose", "Unsqueeze") \
                or seen > 8:
            return False
        node = node.input_value(0).get_node()
        seen += 1
    return True


def quantize_in_child(xml: str, calib_path: str, out_xml: str, skip: list[str], observer: str) -> None:
    """nncf.quantize the fp32 IR on the pickled calibration feeds and save the int8 IR. Runs in call_isolated."""
    ov, nncf = _import_nncf()
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters
    from nncf.quantization.range_estimator import RangeEstimatorParametersSet

    with open(calib_path, "rb") as f:
        calib = pickle.load(f)
    model = ov.Core().read_model(xml)
    est = _ESTIMATORS.get(observer.split(":")[0])
    advanced = AdvancedQuantizationParameters(
        activations_range_estimator_params=getattr(RangeEstimatorParametersSet, est)) if est else None
    q = nncf.quantize(model, nncf.Dataset(calib), preset=nncf.QuantizationPreset.MIXED,
                      target_device=nncf.TargetDevice.CPU, subset_size=len(calib),
                      ignored_scope=nncf.IgnoredScope(names=list(skip)) if skip else None,
                      advanced_parameters=advanced)
    ov.save_model(q, out_xml, compress_to_fp16=False)


def dump_outputs(xml: str, feeds: list[dict[str, np.ndarray]], points: list[tuple[str, int]]) -> list[dict]:
    """Outputs (node name, port) of the IR per feed, computed in f32. Runs inside call_isolated."""
    from edgepack.runtime.engines.openvino import import_openvino

    ov = import_openvino()
    core = ov.Core()
    model = core.read_model(xml)
    ops = {op.get_friendly_name(): op for op in model.get_ordered_ops()}
    keep = [(n, p) for n, p in points if n in ops and ops[n].get_type_name() not in ("Constant", "Result")]
    first = len(model.outputs)
    model.add_outputs([ops[n].output(p) for n, p in keep])
    compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": 2})
    req = compiled.create_infer_request()
    got = []
    for f in feeds:
        req.infer({k: np.ascontiguousarray(v) for k, v in f.items()})
        got.append({f"{n}:{p}": np.array(req.get_output_tensor(first + i).data, np.float32)
                    for i, (n, p) in enumerate(keep)})
    return got


class OpenVinoInt8:
    """Builds int8 variants of one fp32 OpenVINO artifact (the gate asks for several, with layers skipped)."""

    engine = "openvino"

    def __init__(self, fp32: Artifact, calib: list[dict[str, np.ndarray]], opts) -> None:
        import importlib.util

        if importlib.util.find_spec("nncf") is None:
            raise EngineUnavailableError("OpenVINO int8 needs NNCF; install it with: pip install nncf")
        self.fp32 = fp32
        self.observer = getattr(opts, "observer", "kl") or "kl"
        est = _ESTIMATORS.get(self.observer.split(":")[0])
        self.method = (f"NNCF post-training quantization (preset MIXED, activations: "
                       f"{est or 'NNCF default'} range estimator, weights: symmetric per channel)")
        self._tmp = tempfile.TemporaryDirectory(prefix=private_prefix("nncf"))
        self.work = Path(self._tmp.name)
        self.calib_path = self.work / "calib.pkl"
        with open(self.calib_path, "wb") as f:  # by engine tensor name: what the IR's inputs are called
            pickle.dump([{t.engine_name or t.name: np.ascontiguousarray(s[t.name]) for t in fp32.inputs}
                         for s in calib], f)
        self._layers = call_isolated(weighted_layers, str(fp32.path("xml")), what="OpenVINO (reading the IR)")
        if not self._layers:
            raise ModelError("the model has no convolution or matmul with weights that OpenVINO can run in "
                             "int8; int8 would change little, use fp16")
        self.layers = [name for name, _, _, _ in self._layers]

    def build(self, out_dir: Path, skip: set[str]) -> Artifact:
        out_dir.mkdir(parents=True, exist_ok=True)
        xml = out_dir / self.fp32.files["xml"]
        call_isolated(quantize_in_child, str(self.fp32.path("xml")), str(self.calib_path), str(xml), sorted(skip),
                      self.observer, what="NNCF quantizer")
        art = copy.deepcopy(self.fp32)
        art.precision, art.directory = "int8", str(out_dir)
        art.converter = f"{self.fp32.converter}+nncf"
        art.converter_version = f"{self.fp32.converter_version}+nncf-{_nncf_version()}"
        art.options = {**art.options, "float_layers": sorted(skip)}
        art.finalize()
        return art

    def layer_errors(self, int8: Artifact, feeds: list[dict[str, np.ndarray]]) -> dict[str, float]:
        """Error each int8 layer adds: 1 - cosine of its output vs fp32, minus that of its data input."""
        from edgepack.runtime.metrics import agreement

        points = list(dict.fromkeys(p for name, _, src, port in self._layers for p in ((name, 0), (src, port))))
        phys = [{t.engine_name or t.name: s[t.name] for t in self.fp32.inputs} for s in feeds]
        ref = call_isolated(dump_outputs, str(self.fp32.path("xml")), phys, points, what="OpenVINO (fp32)")
        got = call_isolated(dump_outputs, str(int8.path("xml")), phys, points, what="OpenVINO (int8)")

        def err(key: str) -> float:
            if key not in ref[0] or key not in got[0]:  # a graph input: no error before it
                return 0.0
            a = agreement(np.concatenate([r[key].ravel() for r in ref]), np.concatenate([g[key].ravel() for g in got]))
            return 1.0 - a.cosine if np.isfinite(a.cosine) else 2.0

        return {name: err(f"{name}:0") - err(f"{src}:{port}") for name, _, src, port in self._layers}


def _nncf_version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("nncf")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
