"""Graph forms: the same model written the ways converters may want it. onnxslim + shape inference (the
prepared model, what ONNX Runtime checks against) suits most converters, but it can also rewrite a graph
into something a converter handles worse than the user's own file: pnnx fuses multi-head attention and
LSTMs by matching the exporter's patterns, and on onnxslim's shape-inferred graph it leaves
`Tensor.reshape`/`torch.unbind` layers or LSTM weights as MemoryData inputs. So every converter is tried on
a list of forms, best first, ending with the user's file with only its input shapes fixed; the first form
whose artifact converts and passes parity is kept (see `try_forms`), and the form is recorded."""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from edgepack.converters.prepare import PreparedModel, fix_shapes_only, save_onnx
from edgepack.errors import EngineUnavailableError, Error, InputError

log = logging.getLogger("edgepack")

# name -> what it is; `prepare` writes "slim", the others are written on first use.
FORMS: dict[str, str] = {
    "slim": "onnxslim + ONNX shape inference (the prepared model)",
    "slim-noshape": "onnxslim without its shape inference (folding and fusions, no shape-driven rewrites)",
    "fixed": "the source model with only its input shapes fixed",
}
DEFAULT_ORDER: tuple[str, ...] = tuple(FORMS)


def parse_forms(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """A user's form list (comma-separated or a sequence), validated; None = every form, default order."""
    if value is None:
        return DEFAULT_ORDER
    items = [v.strip() for v in (value.split(",") if isinstance(value, str) else value) if v and v.strip()]
    for v in items:
        if v not in FORMS:
            raise InputError(f"unknown graph form '{v}'; choose from {', '.join(FORMS)}")
    if not items:
        raise InputError(f"no graph form given; choose from {', '.join(FORMS)}")
    return tuple(dict.fromkeys(items))


def form_model(prepared: PreparedModel, name: str) -> PreparedModel:
    """`prepared` in graph form `name`: same inputs/outputs, another file (written once, beside the work)."""
    if name not in FORMS:
        raise InputError(f"unknown graph form '{name}'; choose from {', '.join(FORMS)}")
    if name == prepared.form:
        return prepared
    if name == "slim" and prepared.slim_path is not None:
        return dataclasses.replace(prepared, path=prepared.slim_path, form="slim")
    if not prepared.simplified and name == "slim-noshape":
        name = "fixed"  # onnxslim failed on this model: there is no other slim form
    path = prepared.forms_dir / f"{name}.onnx"
    if not path.exists():
        import onnx

        model = fix_shapes_only(prepared.source, prepared.input_shapes)
        if name == "slim-noshape":
            import onnxslim

            try:
                model = onnxslim.slim(model, no_shape_infer=True)
                onnx.checker.check_model(model)
            except Exception as e:  # onnxslim's own errors: this form is then the fixed one
                log.info("onnxslim without shape inference failed (%s); using the fixed graph", e)
                return form_model(prepared, "fixed")
        save_onnx(model, path)
    return dataclasses.replace(prepared, path=path, form=name,
                               slim_path=prepared.slim_path or (prepared.path if prepared.form == "slim" else None))


@dataclass
class Attempt:
    form: str
    error: str | None = None      # conversion or run error, None if it converted and ran
    passed: bool = False          # parity passed

    def to_dict(self) -> dict:
        return {"form": self.form, "passed": self.passed, "error": self.error}


@dataclass
class FormOutcome:
    """The kept artifact (None if no form converted), its check result, and every attempt in order."""

    form: str | None
    artifact: object | None
    check: object | None
    attempts: list[Attempt] = field(default_factory=list)


def try_forms(prepared: PreparedModel, order: Sequence[str], out_dir: Path,
              convert: Callable[[PreparedModel, Path], object],
              check: Callable[[object], tuple[bool, object, float]],
              say: Callable[[str], None] = lambda s: None) -> FormOutcome:
    """Convert `prepared` in each form of `order` into `out_dir` until one converts and passes `check`
    (which returns (passed, details, score)). Keeps the first that passes; if none does, the converted one
    with the highest score (the earliest among equals); if none converts, raises the first form's error
    naming what the others gave. A missing converter or engine stops at once: another form cannot help."""
    attempts: list[Attempt] = []
    candidates: list[tuple[float, int, str, object, object, Path]] = []  # converted, parity failed
    first_error: Error | None = None
    tried: set[Path] = set()
    try:
        for i, name in enumerate(order):
            form = form_model(prepared, name)
            if form.path in tried:  # e.g. onnxslim failed: "slim-noshape" is the "fixed" file
                continue
            tried.add(form.path)
            if i:
                say(f"retry: {name} graph ({FORMS[name]})")
            shutil.rmtree(out_dir, ignore_errors=True)
            try:
                art = convert(form, out_dir)
                passed, details, score = check(art)
            except EngineUnavailableError:
                raise
            except Error as e:
                attempts.append(Attempt(name, str(e)))
                first_error = first_error or e
                log.info("graph form %s: %s", name, e)
                continue
            attempts.append(Attempt(name, None, bool(passed)))
            if passed:
                return FormOutcome(name, art, details, attempts)
            aside = out_dir.with_name(f"{out_dir.name}.form-{name}")
            shutil.rmtree(aside, ignore_errors=True)
            shutil.move(str(out_dir), aside)
            candidates.append((score, -i, name, art, details, aside))
        if candidates:
            _, _, name, art, details, aside = max(candidates, key=lambda c: (c[0], c[1]))
            shutil.rmtree(out_dir, ignore_errors=True)
            shutil.move(str(aside), out_dir)
            art.directory = str(out_dir)
            return FormOutcome(name, art, details, attempts)
    finally:
        for c in candidates:
            shutil.rmtree(c[5], ignore_errors=True)
    assert first_error is not None
    if len(attempts) > 1:
        others = "; ".join(f"{a.form} graph: {a.error}" for a in attempts[1:])
        first_error.args = (f"{first_error} (also tried {others})",)
    raise first_error
