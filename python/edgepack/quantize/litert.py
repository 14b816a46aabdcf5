"""LiteRT int8: full-integer .tflite from the fp32 .tflite our own writer produced (litert_model does the
rewrite). Activation ranges come from running the float model in LiteRT's Interpreter with
`experimental_preserve_all_tensors` over the calibration set (in a child process) and reading every float
activation tensor; the observer's threshold T clips each range to [max(min, -T), min(max, T)]. Float
input/output with QUANTIZE/DEQUANTIZE at the edges by default; `litert_int8_io` makes them int8."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np

from edgepack.errors import ModelError
from edgepack.quantize.litert_model import Int8Rewriter, Range
from edgepack.quantize.observers import get_observer, needs_histogram
from edgepack.quantize.stats import TensorStats
from edgepack.runtime._isolate import call_isolated
from edgepack.runtime.artifact import Artifact
from edgepack.runtime.engines.litert import dequantize_int8, quantize_int8


def _interpreter(model_path: str):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    # no delegate: XNNPACK would hide the intermediate tensors of the partitions it takes
    it = Interpreter(model_path=model_path, experimental_preserve_all_tensors=True, num_threads=2,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    return it


def _invoke(it, feeds: dict[str, np.ndarray]) -> None:
    for d in it.get_input_details():
        x = np.asarray(feeds[d["name"]])
        if d["dtype"] == np.int8 and x.dtype != np.int8:
            x = quantize_int8(x, d["quantization"])
        it.set_tensor(d["index"], x.reshape(d["shape"]).astype(d["dtype"], copy=False))
    it.invoke()


def activation_names(model_path: str) -> list[str]:
    """Float32 tensors of the model that are not constants."""
    from edgepack.converters.litert.builder import schema

    s = schema()
    m = s.ModelT.InitFromPackedBuf(bytearray(Path(model_path).read_bytes()), 0)
    out = []
    for t in m.subgraphs[0].tensors:
        b = m.buffers[t.buffer]
        if t.type == s.TensorType.FLOAT32 and (t.buffer == 0 or b.data is None or len(b.data) == 0):
            out.append(t.name.decode() if isinstance(t.name, bytes) else t.name)
    return out


def collect_ranges(model_path: str, feeds: list[dict[str, np.ndarray]], observer: str) -> dict[str, Range]:
    """Clipped [lo, hi] of every float activation over the calibration feeds. Runs inside call_isolated."""
    names = set(activation_names(model_path))
    it = _interpreter(model_path)
    idx = {d["name"]: d["index"] for d in it.get_tensor_details() if d["name"] in names}
    stats = {n: TensorStats() for n in idx}
    lo = dict.fromkeys(idx, np.inf)
    hi = dict.fromkeys(idx, -np.inf)
    for f in feeds:
        _invoke(it, f)
        for n, i in idx.items():
            x = it.get_tensor(i)
            stats[n].observe_max(x)
            if x.size:
                lo[n], hi[n] = min(lo[n], float(np.nanmin(x))), max(hi[n], float(np.nanmax(x)))
    if needs_histogram(observer):
        for f in feeds:
            _invoke(it, f)
            for n, i in idx.items():
                stats[n].observe_histogram(it.get_tensor(i))
    fn = get_observer(observer)
    out = {}
    for n in idx:
        if not np.isfinite(lo[n]):
            continue
        t = float(fn(stats[n])) if stats[n].absmax > 0 else 0.0
        out[n] = Range(max(lo[n], -t), min(hi[n], t))
    return out


def dump_tensors(model_path: str, feeds: list[dict[str, np.ndarray]], names: list[str]) -> list[dict]:
    """Named tensors (int8 ones dequantized) per feed. Runs inside call_isolated."""
    it = _interpreter(model_path)
    details = {d["name"]: d for d in it.get_tensor_details() if d["name"] in set(names)}
    got = []
    for f in feeds:
        _invoke(it, f)
        row = {}
        for n, d in details.items():
            x = it.get_tensor(d["index"])
            row[n] = dequantize_int8(x, d["quantization"]) if d["dtype"] == np.int8 else np.array(x, np.float32)
        got.append(row)
    return got


def physical_feeds(art: Artifact, feeds: list[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
    """Feeds keyed by the model's tensor names, in its physical layout (NHWC inputs when so written)."""
    out = []
    for f in feeds:
        row = {}
        for t in art.inputs:
            x = np.asarray(f[t.name], np.float32)
            if t.layout == "NHWC" and x.ndim == 4 and list(x.shape) != list(t.shape):
                x = x.transpose(0, 2, 3, 1)
            row[t.engine_name or t.name] = np.ascontiguousarray(x)
        out.append(row)
    return out


class LiteRtInt8:
    """Builds int8 variants of one fp32 LiteRT artifact (the gate asks for several, with layers skipped)."""

    engine = "litert"

    def __init__(self, fp32: Artifact, calib: list[dict[str, np.ndarray]], opts) -> None:
        observer = getattr(opts, "observer", "kl")
        self.int8_io = bool(getattr(opts, "litert_int8_io", False))
        self.method = (f"edgepack LiteRT full-integer int8, activations: {observer} (asymmetric per tensor), "
                       f"weights: symmetric per channel, {'int8' if self.int8_io else 'float'} I/O")
        self.fp32 = fp32
        path = str(fp32.path("model"))
        ranges = call_isolated(collect_ranges, path, physical_feeds(fp32, calib), observer,
                               what="LiteRT (fp32 calibration run)")
        self.rewriter = Int8Rewriter(Path(path).read_bytes(), ranges)
        self.layers = list(self.rewriter.layers)
        if not any(self.rewriter.op_of(n) in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
                   for n in self.layers):
            raise ModelError("the model has no convolution or fully-connected layer LiteRT can run in int8; "
                             "int8 would change little, use fp16")

    def build(self, out_dir: Path, skip: set[str]) -> Artifact:
        out_dir.mkdir(parents=True, exist_ok=True)
        data = self.rewriter.build(skip, self.int8_io, f"edgepack (int8) from {self.fp32.files['model']}")
        dst = out_dir / self.fp32.files["model"]
        tmp = dst.with_name(f".{dst.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, dst)
        art = copy.deepcopy(self.fp32)
        art.precision, art.directory = "int8", str(out_dir)
        art.converter = f"{self.fp32.converter}+edgepack-int8"
        art.options = {**art.options, "int8_io": self.int8_io, "float_layers": sorted(skip)}
        art.finalize()
        return art

    def layer_errors(self, int8: Artifact, feeds: list[dict[str, np.ndarray]]) -> dict[str, float]:
        """Error each int8 op adds: 1 - cosine of its output vs fp32, minus that of its data input."""
        from edgepack.runtime.metrics import agreement

        pairs = [(n, self.rewriter.input_of(n), n) for n in self.layers]
        names = list(dict.fromkeys(b for _, i, o in pairs for b in (i, o) if b))
        phys = physical_feeds(self.fp32, feeds)
        ref = call_isolated(dump_tensors, str(self.fp32.path("model")), phys, names, what="LiteRT (fp32)")
        got = call_isolated(dump_tensors, str(int8.path("model")), phys, names, what="LiteRT (int8)")

        def err(b: str) -> float:
            if not b or b not in ref[0] or b not in got[0]:
                return 0.0
            a = agreement(np.concatenate([r[b].ravel() for r in ref]), np.concatenate([g[b].ravel() for g in got]))
            return 1.0 - a.cosine if np.isfinite(a.cosine) else 2.0

        return {name: err(o) - err(i) for name, i, o in pairs}
