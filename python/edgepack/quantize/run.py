"""int8 inside `edgepack convert`: load calibration (and held-out) data once, then per engine build the
int8 artifact from that engine's fp32 artifact behind the gate, and check it against ONNX Runtime on the
held-out samples (seeded noise says little about a calibrated model)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edgepack.converters.prepare import PreparedModel
from edgepack.errors import InputError
from edgepack.quantize import QuantizeOptions, check_not_quantized, get_builder
from edgepack.quantize.calib import Feeds, load_samples, split
from edgepack.quantize.gate import GateResult, search
from edgepack.runtime.artifact import Artifact


@dataclass
class Int8Data:
    calib: Feeds
    eval: Feeds
    reference: Feeds  # ONNX Runtime fp32 outputs on `eval`
    source: str


def load_int8_data(prepared: PreparedModel, opts: QuantizeOptions,
                   reference: Callable[[Feeds], Feeds]) -> Int8Data:
    if opts.calib is None:
        raise InputError("int8 needs calibration data: pass --calib DIR (images) or --calib FILE.npz (tensors "
                         "keyed by input name)")
    check_not_quantized(prepared.path)
    feeds = load_samples(opts.calib, prepared.inputs, opts.preprocess, opts.calib_limit, "calibration")
    if opts.eval is not None:
        cal, ev = feeds, load_samples(opts.eval, prepared.inputs, opts.preprocess, None, "evaluation")
    else:
        cal, ev = split(feeds)
    return Int8Data(cal, ev, reference(ev), str(opts.calib))


def build_int8(engine: str, fp32: Artifact, out_dir: Path, data: Int8Data, opts: QuantizeOptions,
               say: Callable[[str], None]) -> GateResult:
    builder = get_builder(engine)(fp32, data.calib, opts)
    try:
        return search(builder, out_dir, data.eval, data.reference, opts.parsed_gate(), say)
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise
