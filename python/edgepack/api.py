"""The Python API: `edgepack.convert(...)` does what `edgepack convert` does and returns the results."""

from __future__ import annotations

import json
import platform
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgepack import __version__
from edgepack.converters import get_converter, targets
from edgepack.converters.base import PRECISIONS as FLOAT_PRECISIONS
from edgepack.converters.base import Converter
from edgepack.converters.forms import FORMS, FormOutcome, parse_forms, try_forms
from edgepack.converters.prepare import PreparedModel, prepare
from edgepack.errors import Error, InputError, ModelError
from edgepack.quantize import QuantizeOptions, get_builder
from edgepack.quantize.run import build_int8, load_int8_data
from edgepack.runtime._fsutil import atomic_dir
from edgepack.runtime.artifact import Artifact, TensorInfo, seeded_inputs, sha256_file
from edgepack.runtime.engines import get_engine
from edgepack.runtime.limits import check_count
from edgepack.runtime.metrics import tolerance_model, within
from edgepack.verify.parity import Parity, compare, run_artifact_isolated

Progress = Callable[[str], None]
PRECISIONS = (*FLOAT_PRECISIONS, "int8")
DATA_LIMIT = 16  # parity samples read from --data / --calib at most


@dataclass
class ArtifactResult:
    """One engine x precision: the artifact (None if conversion failed), its parity, or the error."""

    engine: str
    precision: str
    artifact: Artifact | None = None
    parity: Parity | None = None
    error: str | None = None
    quant: dict | None = None  # int8 only: gate metrics, layers kept in float, calibration source
    target: str = ""  # the --to name when it differs from the engine's (tflite -> litert)
    form: str | None = None  # the graph form the artifact was converted from (converters/forms.py)
    form_attempts: list[dict] = field(default_factory=list)  # every form tried, in order

    @property
    def ok(self) -> bool:
        return self.error is None and self.parity is not None and self.parity.passed

    def to_dict(self) -> dict:
        d = {"engine": self.engine, "target": self.target or self.engine, "precision": self.precision,
             "ok": self.ok, "error": self.error}
        if self.artifact is not None:
            d["dir"] = Path(self.artifact.directory).name
            d["artifact"] = self.artifact.to_dict()
        if self.parity is not None:
            d["parity"] = self.parity.to_dict()
        if self.quant is not None:
            d["quant"] = self.quant
        if self.form is not None:
            d["graph_form"] = self.form
        if len(self.form_attempts) > 1:
            d["graph_form_attempts"] = self.form_attempts
        return d


@dataclass
class ConvertResult:
    out_dir: Path
    source: str
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    results: list[ArtifactResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    prepared: PreparedModel | None = None
    parity_inputs: dict = field(default_factory=dict)  # what the float parity checks ran on

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def artifact(self, engine: str, precision: str) -> Artifact | None:
        for r in self.results:
            if engine in (r.engine, r.target) and r.precision == precision:
                return r.artifact
        return None


def parse_list(value: str | Iterable[str] | None, allowed: Iterable[str], what: str) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value or [])
    items = [i.strip().lower() for i in items if i and i.strip()]
    allowed = list(allowed)
    for i in items:
        if i not in allowed:
            raise InputError(f"unknown {what} '{i}'; choose from {', '.join(allowed)}")
    if not items:
        raise InputError(f"no {what} given; choose from {', '.join(allowed)}")
    return list(dict.fromkeys(items))


def convert(model: str | Path, to: str | Iterable[str] = ("ncnn", "mnn"),
            precision: str | Iterable[str] = ("fp32",), out_dir: str | Path | None = None,
            input_shapes: dict[str, list[int]] | None = None, seed: int = 0, samples: int = 2,
            keep_going: bool = False, force: bool = False, progress: Progress | None = None,
            quant: QuantizeOptions | None = None,
            converter_options: dict[str, dict] | None = None,
            graph_forms: str | Iterable[str] | None = None, data: str | Path | None = None,
            data_limit: int = DATA_LIMIT) -> ConvertResult:
    """Convert `model` (ONNX) to every target x precision, run each artifact and ONNX Runtime on the same
    seeded inputs, and write artifacts + convert.json into `out_dir` atomically. A conversion failure raises
    (nothing is written) unless keep_going=True, which records it and keeps the other artifacts.
    int8 needs `quant` (calibration data, optional gate); int8 parity is checked on held-out samples.
    `converter_options` maps a target to its converter's options, e.g. {"tflite": {"io_layout": "nhwc"}}.
    Each float artifact is converted from the first graph form (converters/forms.py; `graph_forms` restricts
    and orders them) that converts and passes parity; the form is recorded per artifact.
    Parity inputs: `data` (a folder of images, preprocessed like calibration data, or an .npz of tensors keyed
    by input name; at most `data_limit` samples), else the calibration data when `quant.calib` is given,
    else `samples` seeded standard-normal tensors. convert.json records which."""
    engines = parse_list(to, targets(), "target")
    order = parse_forms(graph_forms)
    precisions = parse_list(precision, PRECISIONS, "precision")
    samples = check_count(samples, "--samples", 1, 1000)
    seed = check_count(seed, "--seed", 0, 2**32 - 1)
    say = progress or (lambda s: None)
    opts = converter_options or {}
    for t in opts:
        if t not in targets():
            raise InputError(f"converter options given for unknown target '{t}'; choose from {', '.join(targets())}")
    for eng in engines:  # parity needs the engine itself, not only its converter: say so before any work
        get_engine(get_converter(eng, opts.get(eng)).engine)
    qopts = quant or QuantizeOptions()
    for what, path in (("parity", data), ("calibration", qopts.calib)):
        if path is not None and not Path(path).exists():
            raise InputError(f"{what} data '{path}' not found; pass a folder of images or an .npz file")
    if "int8" in precisions:
        if qopts.calib is None:
            raise InputError("int8 needs calibration data: pass --calib DIR (images) or --calib FILE.npz "
                             "(tensors keyed by input name)")
        qopts.parsed_gate()
        for eng in engines:
            get_builder(eng)
    out = Path(out_dir) if out_dir is not None else Path.cwd() / f"{Path(model).stem}_edgepack"
    with atomic_dir(out, force=force, protect=[model]) as tmp:
        say("prepare: check, fix shapes, simplify")
        prepared = prepare(model, tmp, input_shapes)
        if not prepared.outputs:
            raise ModelError(f"'{model}' declares no graph outputs, so there is nothing to convert or check; "
                             "re-export it with its outputs (torch.onnx.export output_names=...)")
        feeds, parity_inputs = parity_feeds(prepared, data, qopts, seed, samples, data_limit)
        say(f"reference: ONNX Runtime on {len(feeds)} {parity_inputs['kind']} inputs")
        reference = reference_outputs(prepared, feeds)
        int8 = None
        if "int8" in precisions:
            say("int8: calibration data")
            int8 = load_int8_data(prepared, qopts, lambda ev: reference_outputs(prepared, ev))
        result = ConvertResult(out, str(model), prepared.inputs, prepared.outputs, notes=list(prepared.notes),
                               parity_inputs=parity_inputs)
        for eng in engines:
            conv = get_converter(eng, opts.get(eng))
            fp32: FormOutcome | None = None
            passed_form: str | None = None  # the form that passed for this engine: tried first next time
            for prec in precisions:
                r = ArtifactResult(conv.engine, prec, target=eng)
                result.results.append(r)
                forms = _forms_first(order, passed_form)
                try:
                    say(f"convert: {conv.engine} {prec}")
                    if prec == "int8":
                        if fp32 is None:
                            fp32 = _convert_float(conv, prepared, forms, tmp / ".work" / f"{conv.engine}-fp32",
                                                  "fp32", reference, feeds, say)
                        r.form, r.form_attempts = fp32.form, [a.to_dict() for a in fp32.attempts]
                        g = build_int8(eng, fp32.artifact, tmp / f"{conv.engine}-int8", int8, qopts, say)
                        r.artifact, r.quant = g.artifact, {**g.to_dict(), "calibration": int8.source,
                                                           "calibration_samples": len(int8.calib),
                                                           "eval_samples": len(int8.eval), "gate": qopts.gate}
                        say(f"parity: {conv.engine} int8 vs ONNX Runtime on {len(int8.eval)} held-out samples")
                        r.parity = compare(int8.reference, run_in_onnx_layout(r.artifact, int8.eval), prec)
                        if qopts.gate:  # the gate (already passed on these samples) is the int8 criterion
                            r.parity.passed = True
                        continue
                    outcome = _convert_float(conv, prepared, forms, tmp / f"{conv.engine}-{prec}", prec,
                                             reference, feeds, say)
                    r.artifact, r.parity, r.form = outcome.artifact, outcome.check, outcome.form
                    r.form_attempts = [a.to_dict() for a in outcome.attempts]
                    if prec == "fp32":
                        fp32 = outcome
                    if r.parity.passed and passed_form is None:
                        passed_form = outcome.form
                except Error as e:
                    if not keep_going:
                        raise
                    r.error = str(e)
            _fp32_not_stricter_than_fp16(result.results[-len(precisions):], result.notes)
        shutil.rmtree(tmp / ".work", ignore_errors=True)
        write_convert_json(tmp / "convert.json", result, prepared, seed, samples)
        for r in result.results:
            if r.artifact is not None:
                r.artifact.directory = str(out / Path(r.artifact.directory).name)
        prepared.path = out / prepared.path.name
        result.prepared = prepared
    return result


def parity_feeds(prepared: PreparedModel, data: str | Path | None, quant: QuantizeOptions, seed: int,
                 samples: int, limit: int = DATA_LIMIT) -> tuple[list[dict[str, np.ndarray]], dict]:
    """The float parity inputs and their description: --data, else --calib, else seeded normal tensors.
    Image folders go through the calibration preprocessing (quant.preprocess: mean/std/colour/resize)."""
    from edgepack.quantize.calib import load_samples

    source, kind = (data, "data") if data is not None else (quant.calib, "calibration data")
    if source is None:
        return ([seeded_inputs(prepared.inputs, seed + i) for i in range(samples)],
                {"kind": "seeded standard normal", "seed": seed, "samples": samples})
    feeds = load_samples(source, prepared.inputs, quant.preprocess, limit, "parity" if kind == "data" else kind)
    desc = {"kind": kind, "source": str(source), "samples": len(feeds),
            "format": "images" if Path(source).is_dir() else "npz"}
    if Path(source).is_dir() and quant.preprocess:
        pre = quant.preprocess
        desc["preprocess"] = dict(pre) if isinstance(pre, dict) else (pre.to_dict() if hasattr(pre, "to_dict")
                                                                      else str(pre))
    return feeds, desc


def describe_parity_inputs(d: dict) -> str:
    """One line for the terminal: what the parity checks ran on."""
    if d.get("kind", "seeded standard normal") == "seeded standard normal":
        return (f"{d.get('samples', 2)} seeded standard-normal tensors (seed {d.get('seed', 0)}); use --data for "
                "real inputs")
    return f"{d['samples']} samples of {d['kind']} {d['source']} ({d.get('format', '')})"


def _fp32_not_stricter_than_fp16(results: list[ArtifactResult], notes: list[str]) -> None:
    """An fp32 artifact whose errors are within those of the same engine's passing fp16 artifact passes:
    fp32 is never stricter in effect than fp16 on the same output (runtime/metrics.py)."""
    fp32 = next((r for r in results if r.precision == "fp32" and r.parity is not None), None)
    fp16 = next((r for r in results if r.precision == "fp16" and r.ok), None)
    if fp32 is None or fp16 is None or fp32.parity.passed:
        return
    if within(fp32.parity.overall, fp16.parity.overall):
        fp32.parity.passed = True
        fp32.parity.note = "fp32 error within the passing fp16 artifact's"
        notes.append(f"{fp32.engine} fp32 passes: its errors are within those of {fp32.engine} fp16, which passed "
                     "(fp32 is never held stricter than fp16)")


def _forms_first(order: tuple[str, ...], first: str | None) -> tuple[str, ...]:
    return order if first is None or first not in order else (first, *(f for f in order if f != first))


def _convert_float(conv: Converter, prepared: PreparedModel, forms: tuple[str, ...], out_dir: Path,
                   precision: str, reference: list[dict[str, np.ndarray]], feeds: list[dict[str, np.ndarray]],
                   say: Progress) -> FormOutcome:
    """One float artifact from the first graph form that converts and passes parity against `reference`."""
    def check(art: Artifact) -> tuple[bool, Parity, float]:
        say(f"parity: {conv.engine} {precision} vs ONNX Runtime")
        p = compare(reference, run_in_onnx_layout(art, feeds), precision)
        cos = p.overall.cosine if p.overall is not None else float("nan")
        return p.passed, p, cos if np.isfinite(cos) else -2.0

    return try_forms(prepared, forms, out_dir, lambda form, d: conv.convert(form, d, precision), check, say)


def run_in_onnx_layout(artifact: Artifact, feeds: list[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
    """Run an artifact on ONNX-layout feeds; tensors the artifact exposes channels-last (layout "NHWC") are
    transposed on the way in and back on the way out, so the result compares with ONNX Runtime."""
    nhwc_in = {t.name for t in artifact.inputs if t.layout == "NHWC"}
    nhwc_out = {t.name for t in artifact.outputs if t.layout == "NHWC"}
    if nhwc_in:
        feeds = [{k: v.transpose(0, 2, 3, 1) if k in nhwc_in else v for k, v in f.items()} for f in feeds]
    got = run_artifact_isolated(artifact, feeds)
    return [{k: v.transpose(0, 3, 1, 2) if k in nhwc_out else v for k, v in g.items()} for g in got]


def reference_outputs(prepared: PreparedModel, feeds: list[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
    """ONNX Runtime on the prepared model, in process (ORT is the trusted reference)."""
    from edgepack.runtime.engines.onnxruntime import OnnxRuntimeEngine

    art = Artifact("onnxruntime", "fp32", {"model": prepared.path.name}, str(prepared.path.parent),
                   prepared.inputs, prepared.outputs)
    try:
        eng = OnnxRuntimeEngine.load(art)
    except Exception as e:
        raise ModelError(f"ONNX Runtime, the reference, cannot load the prepared model "
                         f"({str(e).splitlines()[0][:300]}); check that the model runs in onnxruntime") from e
    with eng:
        outs = [eng.run(f) for f in feeds]
    bad = sorted({name for o in outs for name, a in o.items()
                  if np.asarray(a).dtype.kind == "f" and not np.isfinite(a).all()})
    if bad:
        raise ModelError(f"the model produces NaN/inf on these inputs (output {', '.join(bad)} in ONNX Runtime); "
                         "check the model, or give real inputs with --data / --calib")
    return outs


def write_convert_json(path: Path, result: ConvertResult, prepared: PreparedModel, seed: int, samples: int) -> None:
    doc = {
        "schema": "edgepack.convert/1",
        "edgepack_version": __version__,
        "source": {"path": str(result.source), "sha256": sha256_file(Path(result.source))},
        "prepared": {"file": prepared.path.name, "opset": prepared.opset, "simplified": prepared.simplified},
        "inputs": [vars(t) for t in prepared.inputs],
        "outputs": [vars(t) for t in prepared.outputs],
        "parity_inputs": result.parity_inputs or {"kind": "seeded standard normal", "seed": seed,
                                                  "samples": samples},
        "tolerance": tolerance_model(),
        "graph_forms": {"order": list(FORMS)},
        "host": {"machine": platform.machine(), "system": platform.system(), "python": platform.python_version()},
        "notes": result.notes,
        "artifacts": [r.to_dict() for r in result.results],
    }
    path.write_text(json.dumps(doc, indent=2))
