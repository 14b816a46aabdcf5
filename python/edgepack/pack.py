"""`edgepack pack`: convert -> (quantize) -> verify -> bench -> write the bundle, atomically.
Conversion and verification are edgepack.convert's; this adds the task, pre/post specs, labels,
benchmarks on this machine, and the manifest."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from edgepack import __version__
from edgepack.api import PRECISIONS, ConvertResult, convert, parse_list, reference_outputs
from edgepack.converters import targets
from edgepack.errors import Error, InputError
from edgepack.runtime._fsutil import private_tempdir
from edgepack.runtime.artifact import Artifact, TensorInfo, seeded_inputs, sha256_file
from edgepack.runtime.bench.measure import bench_artifact
from edgepack.runtime.bundle import references as refs
from edgepack.runtime.bundle.manifest import FORMAT, SCHEMA_VERSION
from edgepack.runtime.bundle.writer import write_bundle
from edgepack.runtime.metrics import TOLERANCE, tolerance_model
from edgepack.runtime.pipeline.spec import TASKS, PostprocessSpec, PreprocessSpec

Progress = Callable[[str], None]


@dataclass
class PackOptions:
    task: str = "classify"
    labels: list[str] = field(default_factory=list)
    mean: list[float] | None = None
    std: list[float] | None = None
    color: str = "RGB"
    resize: str = "stretch"
    pad_value: int = 114
    crop_fraction: float = 1.0
    input: str | None = None     # which ONNX input takes the image (default: the first)
    output: str | None = None    # which ONNX output the postprocess reads (default: the first)
    post: dict = field(default_factory=dict)  # PostprocessSpec fields: top_k, score_threshold, ...
    name: str | None = None
    version: str = "1"


@dataclass
class PackResult:
    path: Path
    manifest: dict
    convert: ConvertResult
    benchmarks: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.convert.ok


def read_labels(path: str | Path | None) -> list[str]:
    """One label per line (UTF-8); trailing blank lines dropped."""
    if path is None:
        return []
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"labels file '{p}' not found; pass a text file with one label per line") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read labels file '{p}' ({e}); pass a UTF-8 text file, one label per line") from e
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise InputError(f"labels file '{p}' is empty; give one label per line (or drop --labels)")
    return [ln.strip() for ln in lines]


def parse_floats(value: str | Sequence[float] | None, what: str) -> list[float] | None:
    if value is None or isinstance(value, (list, tuple)):
        return None if value is None else [float(v) for v in value]
    try:
        return [float(v) for v in str(value).replace(" ", "").split(",") if v]
    except ValueError:
        raise InputError(f"bad --{what} '{value}'; give comma-separated numbers in pixel units, e.g. "
                         "123.675,116.28,103.53") from None


def check_precisions(precision: str | Sequence[str]) -> list[str]:
    return parse_list(precision, PRECISIONS, "precision")


def _quant_options(opt: PackOptions, calib: str | Path | None):
    """Calibration and parity images see the bundle's preprocessing: the same mean/std/colour/resize as the
    manifest."""
    from edgepack.quantize import QuantizeOptions

    return QuantizeOptions(calib=calib, preprocess=_pre_kwargs(opt))


def pack(model: str | Path, out: str | Path, options: PackOptions | None = None,
         to: str | Sequence[str] = ("ncnn", "mnn"), precision: str | Sequence[str] = ("fp32",),
         calib: str | Path | None = None, input_shapes: dict[str, list[int]] | None = None,
         data: str | Path | None = None, bench_runs: int = 20, threads: Sequence[int] = (1,),
         keep_going: bool = False, force: bool = False,
         progress: Progress | None = None, references: int = refs.DEFAULT_SAMPLES) -> PackResult:
    """Build a bundle from an ONNX model. Raises edgepack errors for user mistakes before any work where it
    can (task, labels, targets, precisions, output path). `references` reference samples (inputs + ONNX
    Runtime fp32 outputs, 0..4, capped at references.MAX_REFERENCE_BYTES) go into the bundle for
    `edgepack verify BUNDLE` on the device."""
    opt = options or PackOptions()
    say = progress or (lambda s: None)
    if opt.task not in TASKS:
        raise InputError(f"unknown task '{opt.task}'; choose from {', '.join(TASKS)}")
    engines = parse_list(to, targets(), "target")
    precisions = check_precisions(precision)
    for what, path in (("parity", data), ("calibration", calib)):
        if path is not None and not Path(path).exists():
            raise InputError(f"{what} data '{path}' not found; pass a folder of images or an .npz file")
    if not 0 <= int(references) <= refs.MAX_SAMPLES:
        raise InputError(f"--references {references}: give 0 (none) to {refs.MAX_SAMPLES} reference samples")
    out = Path(out).absolute()
    if out.exists() and (out.is_dir() or not force):
        raise InputError(f"output '{out}' already exists; pass --force to replace it or choose another -o")
    with private_tempdir("pack") as tmp:
        res = convert(model, to=engines, precision=precisions, out_dir=Path(tmp) / "convert",
                      input_shapes=input_shapes, keep_going=keep_going, progress=say,
                      quant=_quant_options(opt, calib), data=data)
        pre, post = _specs(opt, res)
        _check_decodable(opt.task, post, res.outputs)
        _check_labels(opt, post, res.outputs)
        arts = [r for r in res.results if r.artifact is not None]
        if not any(r.ok for r in arts):
            failed = "; ".join(f"{r.engine} {r.precision}: {r.error or 'outside tolerance'}" for r in res.results)
            raise InputError(f"no artifact passed verification against ONNX Runtime ({failed}); a bundle needs at "
                             "least one that does: try another --to/--precision")
        benches, notes = [], []
        for r in arts:
            feeds = seeded_inputs(r.artifact.inputs, 0)
            for t in threads:
                say(f"bench: {r.engine} {r.precision} x{t}")
                try:
                    if bench_runs > 0:
                        benches.append(bench_artifact(r.artifact, feeds, threads=t, runs=bench_runs))
                except Error as e:  # the artifact stays (it passed parity); it just has no measurement
                    notes.append(f"bench {r.engine} {r.precision} x{t} failed: {e}")
        say("pack: write bundle")
        files: dict[str, Path] = {}
        entries = []
        for r in arts:
            entries.append(_artifact_entry(r, files))
        ref_entry = None
        if references and arts:
            say("pack: reference samples (ONNX Runtime)")
            ref_entry = _references(res, int(references), Path(tmp), files, notes)
        manifest = {
            "format": FORMAT, "schema_version": SCHEMA_VERSION, "edgepack_version": __version__,
            "created_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "model": {"name": opt.name or Path(model).stem, "version": opt.version,
                      "source": {"file": Path(model).name, "sha256": sha256_file(Path(model))},
                      "opset": res.prepared.opset},
            "task": opt.task,
            "inputs": [_tensor(t) for t in res.inputs], "outputs": [_tensor(t) for t in res.outputs],
            "preprocess": pre.to_dict() if pre is not None else None,
            "postprocess": post.to_dict(),
            "labels": opt.labels,
            "artifacts": entries,
            "verification": {"reference": "onnxruntime", "inputs": res.parity_inputs,
                             "tolerance": {p: TOLERANCE[p] for p in precisions},
                             "tolerance_model": {p: m for p, m in tolerance_model().items() if p in precisions},
                             **({"references": ref_entry} if ref_entry else {})},
            "benchmarks": [b.to_dict() for b in benches],
        }
        path = write_bundle(out, manifest, files, force=force)
    return PackResult(path, manifest, res, benches, notes)


def _references(res: ConvertResult, samples: int, tmp: Path, files: dict[str, Path], notes: list[str]) -> dict | None:
    """Reference inputs and ONNX Runtime fp32 outputs on them, as the bundle member `references.REFERENCES_FILE`
    (None, with a note, when not even one sample fits the cap)."""
    built = refs.build(res.inputs, res.outputs, lambda feeds: reference_outputs(res.prepared, feeds), samples)
    if isinstance(built, str):
        notes.append(built)
        return None
    data, entry = built
    path = tmp / "reference-samples.npz"
    path.write_bytes(data)
    files[refs.REFERENCES_FILE] = path
    return {**entry, "sha256": sha256_file(path)}


def _specs(opt: PackOptions, res: ConvertResult) -> tuple[PreprocessSpec | None, PostprocessSpec]:
    names_in = [t.name for t in res.inputs]
    names_out = [t.name for t in res.outputs]
    iname = opt.input or names_in[0]
    oname = opt.output or names_out[0]
    if iname not in names_in:
        raise InputError(f"--input '{iname}' is not an input of the model; it has {names_in}")
    if oname not in names_out:
        raise InputError(f"--output '{oname}' is not an output of the model; it has {names_out}")
    post = PostprocessSpec.for_task(opt.task, oname, **opt.post)
    if opt.task == "raw":
        return None, post
    shape = next(t.shape for t in res.inputs if t.name == iname)
    return PreprocessSpec.for_input(iname, shape, **_pre_kwargs(opt)), post


def _pre_kwargs(opt: PackOptions) -> dict:
    """The PreprocessSpec fields pack's options set (size and layout come from the input's shape); the manifest
    and int8 calibration get the same ones."""
    kw = {"color": opt.color, "resize": opt.resize, "pad_value": opt.pad_value, "crop_fraction": opt.crop_fraction}
    if opt.mean is not None:
        kw["mean"] = opt.mean
    if opt.std is not None:
        kw["std"] = opt.std
    return kw


def _check_labels(opt: PackOptions, post: PostprocessSpec, outputs: list[TensorInfo]) -> None:
    """The number of labels must match the classes the output carries, when it can be told from the shape."""
    if not opt.labels or post.kind == "none":
        return
    shape = next(t.shape for t in outputs if t.name == post.output)
    classes = None
    if post.kind == "topk":
        classes = shape[-1]
    elif post.kind == "seg_argmax" and len(shape) == 4:
        classes = shape[1]
    elif post.kind == "yolo" and len(shape) == 3:
        attrs = shape[1] if post.yolo_layout == "attrs_first" else shape[2]
        classes = attrs - 4 - int(post.has_objectness)
    if classes is not None and classes != len(opt.labels):
        raise InputError(f"the labels file has {len(opt.labels)} labels but output '{post.output}' {shape} carries "
                         f"{classes} classes; give one label per class")


def _check_decodable(task: str, post: PostprocessSpec, outputs: list[TensorInfo]) -> None:
    """The task's post-processing must be able to read the output it is given (refused here, not at run time)."""
    if post.kind == "none":
        return
    shape = next(t.shape for t in outputs if t.name == post.output)
    need = {"topk": "[N, classes] with at least 2 classes",
            "yolo": "[1, 4+classes, anchors] or [1, anchors, 4+classes]",
            "seg_argmax": "[1, classes, H, W] with at least 2 classes"}
    ok = True
    if post.kind == "topk":
        ok = len(shape) >= 1 and shape[-1] >= 2
    elif post.kind == "yolo":
        attrs = shape[1] if post.yolo_layout == "attrs_first" else shape[-1]
        ok = len(shape) == 3 and attrs >= 5 + int(post.has_objectness)
    elif post.kind == "seg_argmax":
        ok = len(shape) == 4 and shape[1] >= 2
    if not ok:
        raise InputError(f"--task {task} reads output '{post.output}' as {need[post.kind]}, but its shape is "
                         f"{shape}; choose the task that matches the model (or --output, --task raw)")


def _tensor(t: TensorInfo) -> dict:
    d = {"name": t.name, "shape": list(t.shape), "dtype": t.dtype}
    if t.layout:
        d["layout"] = t.layout
    return d


def _artifact_entry(r, files: dict[str, Path]) -> dict:
    art: Artifact = r.artifact
    base = f"artifacts/{art.key}"
    rel = {role: f"{base}/{name}" for role, name in art.files.items()}
    for role in art.files:
        files[rel[role]] = art.path(role)
    ov = r.parity.overall if r.parity else None
    verification = {"passed": bool(r.ok), "cosine": _num(ov.cosine) if ov else None,
                    "max_abs": _num(ov.max_abs) if ov else None, "mean_abs": _num(ov.mean_abs) if ov else None,
                    "outputs": {k: {m: _num(x) for m, x in v.to_dict().items()} for k, v in r.parity.per_output.items()}
                    if r.parity else {}}
    if r.error:
        verification["error"] = r.error
    if getattr(r, "quant", None):
        verification["int8"] = r.quant  # gate metrics, layers kept in float, calibration source
    return {"engine": art.engine, "precision": art.precision, "files": rel,
            "sha256": {rel[role]: art.sha256[name] for role, name in art.files.items()},
            "size_bytes": art.size_bytes, "converter": art.converter, "converter_version": art.converter_version,
            "convert_seconds": round(art.convert_seconds, 3), **({"graph_form": r.form} if r.form else {}),
            "inputs": [vars(t) for t in art.inputs], "outputs": [vars(t) for t in art.outputs],
            "verification": verification}


def _num(x: float) -> float | None:
    """JSON has no NaN/inf: a non-finite metric is written as null."""
    return x if x == x and abs(x) != float("inf") else None
