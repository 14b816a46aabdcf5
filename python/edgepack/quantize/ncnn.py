"""ncnn int8 writer: the layers ncnn runs in int8 (Convolution, ConvolutionDepthWise, InnerProduct) get int8
weights, per-output-channel weight scales and a per-tensor input scale, exactly as ncnn's own ncnn2int8
writes them:
  param 8 (int8_scale_term) = 2 for Convolution / InnerProduct, 1 for ConvolutionDepthWise (per group);
  .bin: weights with the int8 tag, bias (fp32, unchanged), weight scales (fp32, one per output channel or
  group), bottom blob scale (fp32, one).
A scale s maps x to round(x * s) clamped to [-127, 127] (round half away from zero, as ncnn's float2int8).
Weight scales are 127 / max|w| per output channel; 3x3 stride-1 dilation-1 convolutions get 31 / max|w|
(6 bits), as ncnn2table does, because ncnn's int8 Winograd F(4,3) path needs the headroom.
Activation statistics come from running the fp32 model in ncnn (in a child process) and reading the input
blob of every quantizable layer."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import numpy as np

from edgepack.errors import ModelError
from edgepack.formats.ncnn import Layer, NcnnModel, WeightBlob, read_model, write_model
from edgepack.quantize.observers import get_observer, needs_histogram
from edgepack.quantize.stats import TensorStats
from edgepack.runtime._isolate import call_isolated
from edgepack.runtime.artifact import Artifact

QUANTIZABLE = ("Convolution", "ConvolutionDepthWise", "InnerProduct")


def quantizable_layers(model: NcnnModel) -> list[Layer]:
    out = []
    for ly in model.param.layers:
        if ly.type not in QUANTIZABLE or len(ly.bottoms) != 1 or ly.name not in model.weights:
            continue
        if ly.get(8, 0):
            raise ModelError(f"ncnn layer '{ly.name}' is already int8-quantized; quantize the fp32 model instead")
        if ly.type != "InnerProduct" and ly.get(19, 0):  # dynamic weight: no weights in the .bin
            continue
        out.append(ly)
    return out


def to_int8(x: np.ndarray, scale: np.ndarray | float) -> np.ndarray:
    """ncnn's float2int8: round half away from zero of x*scale (float32), clamped to [-127, 127]."""
    v = np.asarray(x, np.float32) * np.asarray(scale, np.float32)
    r = np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))
    return np.clip(r, -127, 127).astype(np.int8)


def weight_scales(ly: Layer, w: np.ndarray) -> np.ndarray:
    rows = int(ly.get(7, 1)) if ly.type == "ConvolutionDepthWise" else int(ly.get(0, 0))
    absmax = np.abs(w.astype(np.float32).reshape(rows, -1)).max(axis=1)
    winograd = (ly.type == "Convolution" and int(ly.get(1, 0)) == 3 and int(ly.get(11, ly.get(1, 0))) == 3
                and int(ly.get(2, 1)) == 1 and int(ly.get(12, ly.get(2, 1))) == 1
                and int(ly.get(3, 1)) == 1 and int(ly.get(13, ly.get(3, 1))) == 1)
    top = np.float32(31 if winograd else 127)
    # a channel of zeros, or of weights so small that top / absmax overflows float32 (denormals, seen in
    # PP-OCRv4 rec), gets scale 1: its weights round to 0, as they would dequantize to anyway (an inf scale
    # made 0 * inf = NaN, cast to int8)
    usable = absmax > top / np.finfo(np.float32).max
    with np.errstate(divide="ignore", over="ignore"):
        return np.where(usable, top / np.where(usable, absmax, 1), np.float32(1)).astype(np.float32)


def quantize_model(model: NcnnModel, input_scales: dict[str, float], skip: set[str] = frozenset()) -> NcnnModel:
    """A copy of `model` with every quantizable layer that has an input scale and is not in `skip` in int8."""
    q = copy.deepcopy(model)
    for ly in quantizable_layers(q):
        if ly.name in skip or ly.name not in input_scales:
            continue
        blobs = q.weights[ly.name]
        w = blobs[0].data.astype(np.float32)
        ws = weight_scales(ly, w)
        rows = len(ws)
        wq = to_int8(w.reshape(rows, -1), ws[:, None]).ravel()
        blobs[0] = WeightBlob("weight", wq, True)
        blobs += [WeightBlob("weight_scales", ws, False),
                  WeightBlob("bottom_scale", np.array([input_scales[ly.name]], np.float32), False)]
        ly.set(8, 1 if ly.type == "ConvolutionDepthWise" else 2)
    return q


def input_scales(model: NcnnModel, stats: dict[str, TensorStats], observer: str) -> dict[str, float]:
    """Per quantizable layer: 127 / threshold of its input blob."""
    fn = get_observer(observer)
    out = {}
    for ly in quantizable_layers(model):
        st = stats.get(ly.bottoms[0])
        if st is None:
            continue
        t = float(fn(st))
        out[ly.name] = 127.0 / t if t > 0 else 1.0
    return out


def collect_stats(artifact: Artifact, feeds: list[dict[str, np.ndarray]], blobs: list[str],
                  histogram: bool) -> dict[str, TensorStats]:
    """Run the fp32 model over the calibration feeds and gather statistics of `blobs` (two passes when a
    histogram is needed: its range is the max found in pass one). Runs inside call_isolated."""
    from edgepack.runtime.engines.ncnn import NcnnEngine

    stats = {b: TensorStats() for b in blobs}
    eng = NcnnEngine.load(artifact, threads=2)
    try:
        for f in feeds:
            got = eng.extract(_checked(eng, f), blobs)
            for b in blobs:
                stats[b].observe_max(got[b])
        if histogram:
            for f in feeds:
                got = eng.extract(_checked(eng, f), blobs)
                for b in blobs:
                    stats[b].observe_histogram(got[b])
    finally:
        eng.close()
    return stats


def extract_blobs(artifact: Artifact, feeds: list[dict[str, np.ndarray]], blobs: list[str]) -> list[dict]:
    """Intermediate blobs per feed (for sensitivity ranking and first-divergence). Runs inside call_isolated."""
    from edgepack.runtime.engines.ncnn import NcnnEngine

    eng = NcnnEngine.load(artifact, threads=2)
    try:
        return [eng.extract(_checked(eng, f), blobs) for f in feeds]
    finally:
        eng.close()


def _checked(eng, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {t.name: np.ascontiguousarray(feeds[t.name], dtype=np.float32) for t in eng.inputs}


class NcnnInt8:
    """Builds int8 variants of one fp32 ncnn artifact (the gate asks for several, with layers skipped)."""

    engine = "ncnn"

    def __init__(self, fp32: Artifact, calib: list[dict[str, np.ndarray]], opts) -> None:
        observer = opts if isinstance(opts, str) else opts.observer
        self.method = f"ncnn int8 (ncnn2int8 layout), activations: {observer}, weights: per-channel max"
        self.fp32 = fp32
        self.model = read_model(fp32.path("param"), fp32.path("bin"))
        layers = quantizable_layers(self.model)
        if not layers:
            raise ModelError("the model has no layer ncnn runs in int8 (Convolution, ConvolutionDepthWise, "
                             "InnerProduct); int8 would change nothing, use fp16")
        self.layers = [ly.name for ly in layers]
        blobs = list(dict.fromkeys(ly.bottoms[0] for ly in layers))
        stats = call_isolated(collect_stats, fp32, calib, blobs, needs_histogram(observer),
                              what="ncnn (fp32 calibration run)")
        self.scales = input_scales(self.model, stats, observer)

    def build(self, out_dir: Path, skip: set[str]) -> Artifact:
        out_dir.mkdir(parents=True, exist_ok=True)
        q = quantize_model(self.model, self.scales, skip)
        write_model(q, out_dir / self.fp32.files["param"], out_dir / self.fp32.files["bin"])
        art = copy.deepcopy(self.fp32)
        art.precision, art.directory = "int8", str(out_dir)
        art.converter = f"{self.fp32.converter}+edgepack-int8"
        art.finalize()
        return art

    def layer_errors(self, int8: Artifact, feeds: list[dict[str, np.ndarray]]) -> dict[str, float]:
        """Error each quantized layer adds: 1 - cosine of its output vs fp32, minus that of its input."""
        from edgepack.runtime.metrics import agreement

        pairs = [(ly.name, ly.bottoms[0], ly.tops[0]) for ly in quantizable_layers(self.model)]
        blobs = list(dict.fromkeys(b for _, i, o in pairs for b in (i, o)))
        ref = call_isolated(extract_blobs, self.fp32, feeds, blobs, what="ncnn (fp32)")
        got = call_isolated(extract_blobs, int8, feeds, blobs, what="ncnn (int8)")

        def err(b: str) -> float:
            a = agreement(np.concatenate([r[b].ravel() for r in ref]), np.concatenate([g[b].ravel() for g in got]))
            return 1.0 - a.cosine if np.isfinite(a.cosine) else 2.0

        return {name: err(o) - err(i) for name, i, o in pairs}


def remove_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
