"""prepare: check an ONNX model, fix its input shapes, simplify it, and describe its inputs and outputs.
Every converter starts from the prepared model, and every parity check compares with it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from edgepack.errors import InputError, ModelError
from edgepack.runtime.artifact import TensorInfo, seeded_inputs
from edgepack.runtime.limits import check_shape

log = logging.getLogger("edgepack")

# ONNX opsets newer than this are refused by pnnx's bundled onnxruntime; we say so before converting.
MAX_PNNX_OPSET = 25


@dataclass
class PreparedModel:
    path: Path
    source: str
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    opset: int
    simplified: bool = True
    notes: list[str] = field(default_factory=list)
    form: str = "slim"  # which graph form `path` holds (converters/forms.py)
    input_shapes: dict[str, list[int]] = field(default_factory=dict)  # as given to prepare
    slim_path: Path | None = None  # the "slim" form, when `path` holds another one

    @property
    def forms_dir(self) -> Path:
        """Where the other graph forms are written (inside the work directory's scratch area)."""
        return (self.slim_path or self.path).parent / ".work" / "forms"

    @property
    def op_types(self) -> set[str]:
        import onnx

        return {n.op_type for n in onnx.load(str(self.path), load_external_data=False).graph.node}


def parse_input_shapes(specs: list[str] | tuple[str, ...] | None) -> dict[str, list[int]]:
    """Parse `name=1,3,224,224` strings (several may be given) into {name: [dims]}."""
    shapes: dict[str, list[int]] = {}
    for spec in specs or ():
        name, sep, dims = spec.rpartition("=")
        try:
            parts = dims.split(",") if "," in dims else dims.split("x")  # 1,3,224,224 or 1x3x224x224
            values = [int(d) for d in parts]
        except ValueError:
            values = []
        if not sep or not name or not values or any(v <= 0 for v in values):
            raise InputError(f"bad --input-shape '{spec}'; write it as NAME=1,3,224,224 (positive integers)")
        shapes[name] = check_shape(values, f"--input-shape {name}")
    return shapes


def load_onnx(path: str | Path):
    """Load an ONNX file with clear errors for missing, non-ONNX and truncated files."""
    import onnx

    p = Path(path)
    if not p.exists():
        raise InputError(f"model file '{p}' not found; check the path")
    if p.is_dir():
        raise InputError(f"'{p}' is a directory; pass the .onnx file itself")
    if p.stat().st_size == 0:
        raise ModelError(f"'{p}' is empty; re-export the model to ONNX")
    try:
        model = onnx.load(str(p))
    except Exception as e:  # protobuf DecodeError, external data errors...
        raise ModelError(f"'{p}' is not a readable ONNX model ({type(e).__name__}: {_first_line(e)}); "
                         "pass an .onnx file exported with torch.onnx.export or similar") from e
    if not model.HasField("graph") or len(model.graph.node) == 0:
        raise ModelError(f"'{p}' holds no ONNX graph (not an ONNX file, or truncated); re-export the model")
    return model


def prepare(model_path: str | Path, work_dir: str | Path,
            input_shapes: dict[str, list[int]] | None = None, simplify: bool = True) -> PreparedModel:
    """Check, fix shapes, simplify and save the model as `work_dir/model.onnx`."""
    import onnx

    model = load_onnx(model_path)
    try:
        onnx.checker.check_model(model)
    except Exception as e:
        raise ModelError(f"'{model_path}' fails the ONNX checker: {_first_line(e)}; fix the export") from e
    _fix_input_shapes(model, input_shapes or {})
    notes: list[str] = []
    simplified = False
    if simplify:
        try:
            import onnxslim

            model = onnxslim.slim(model)
            simplified = True
        except Exception as e:  # simplification is an optimisation: keep the checked model, say so
            notes.append(f"onnxslim could not simplify the model ({_first_line(e)}); converted it as is")
            log.warning(notes[-1])
    model = onnx.shape_inference.infer_shapes(model, data_prop=True)
    out = Path(work_dir) / "model.onnx"
    save_onnx(model, out)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    inputs = [TensorInfo(i.name, _static_dims(i), _dtype(i)) for i in _graph_inputs(model)]
    outputs = _output_infos(out, model, inputs)
    return PreparedModel(out, str(model_path), inputs, outputs, opset, simplified, notes,
                         input_shapes=dict(input_shapes or {}))


def fix_shapes_only(model_path: str | Path, input_shapes: dict[str, list[int]] | None):
    """The user's model with only its input shapes fixed: the graph form closest to their own file."""
    model = load_onnx(model_path)
    _fix_input_shapes(model, input_shapes or {})
    return model


def save_onnx(model, path: Path) -> None:
    """Save, with external data beside it when the model is past protobuf's 2 GB limit."""
    import onnx

    path.parent.mkdir(parents=True, exist_ok=True)
    large = model.ByteSize() > 1_900_000_000
    onnx.save(model, str(path), save_as_external_data=large, location=f"{path.name}.data" if large else None)



def _graph_inputs(model) -> list:
    inits = {i.name for i in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in inits]


def _fix_input_shapes(model, shapes: dict[str, list[int]]) -> None:
    inputs = _graph_inputs(model)
    names = [i.name for i in inputs]
    for name in shapes:
        if name not in names:
            raise InputError(f"--input-shape names '{name}', but the model's inputs are {names}")
    for inp in inputs:
        dims = inp.type.tensor_type.shape.dim
        given = shapes.get(inp.name)
        current = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else (d.dim_param or "?")
                   for d in dims]
        if given is not None:
            if len(given) != len(dims):
                raise InputError(f"--input-shape {inp.name} has {len(given)} dims, the model's input has "
                                 f"{len(dims)} ({_fmt(current)})")
            for d, g, c in zip(dims, given, current):
                if isinstance(c, int) and c != g:
                    raise InputError(f"--input-shape {inp.name}={_fmt(given)} conflicts with the model's "
                                     f"fixed shape {_fmt(current)}")
                d.ClearField("dim_param")
                d.dim_value = g
            continue
        dynamic = [c for c in current if not isinstance(c, int)]
        if dynamic:
            hint = ",".join(str(c) if isinstance(c, int) else "N" for c in current)
            raise ModelError(f"input '{inp.name}' has dynamic dims {dynamic} in shape {_fmt(current)}; "
                             f"fix them with --input-shape {inp.name}={hint} (N = the size you deploy)")


def _output_infos(path: Path, model, inputs: list[TensorInfo]) -> list[TensorInfo]:
    infos = [TensorInfo(o.name, _static_dims(o), _dtype(o)) for o in model.graph.output]
    if all(_has_shape(o) for o in model.graph.output) and all(d > 0 for t in infos for d in t.shape):
        return infos
    # Shape inference left a dim open: ask ONNX Runtime what it produces on two seeded inputs. If the two
    # disagree, the shape depends on the input values, which no fixed-shape edge artifact can express.
    import onnxruntime as ort

    try:
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        runs = [sess.run(None, seeded_inputs(inputs, seed)) for seed in (0, 1)]
    except Exception as e:  # onnxruntime raises its own exception types
        raise ModelError(f"ONNX Runtime cannot run the model to find its output shapes "
                         f"({_first_line(e)}); check the model runs in onnxruntime") from e
    names = [o.name for o in sess.get_outputs()]
    for name, a, b in zip(names, runs[0], runs[1]):
        if a.shape != b.shape:
            raise ModelError(f"output '{name}' has a shape that depends on the input values ({list(a.shape)} vs "
                             f"{list(b.shape)}); edge engines need fixed output shapes: make it static before export")
    return [TensorInfo(n, list(r.shape), str(r.dtype)) for n, r in zip(names, runs[0])]


def _has_shape(vi) -> bool:
    return vi.type.tensor_type.HasField("shape")


def _static_dims(vi) -> list[int]:
    return [d.dim_value if d.HasField("dim_value") else -1 for d in vi.type.tensor_type.shape.dim]


def _dtype(vi) -> str:
    import onnx

    et = vi.type.tensor_type.elem_type
    if et == 0:
        return "float32"
    return str(onnx.helper.tensor_dtype_to_np_dtype(et))


def _fmt(dims) -> str:
    return "[" + ",".join(str(d) for d in dims) + "]"


def _first_line(e: BaseException) -> str:
    s = str(e).strip().splitlines()
    return s[0][:300] if s else type(e).__name__
