"""`edgepack demo`: convert the digits model to every installed engine x precision (int8 calibrated on the
first CALIB_IMAGES held-out images, unlabelled, behind a top-1 gate) and check each one on all held-out
digits: accuracy, agreement with ONNX Runtime, parity. Exit 1 if any artifact is out of tolerance."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from edgepack.api import ArtifactResult, convert, reference_outputs, run_in_onnx_layout
from edgepack.converters import get_converter, targets
from edgepack.demo import load_demo, preprocess
from edgepack.errors import Error
from edgepack.quantize import BUILDERS, QuantizeOptions
from edgepack.runtime._fsutil import private_prefix
from edgepack.runtime.engines import engine_status
from edgepack.runtime.metrics import TOLERANCE, agreement, passes

PRECISIONS = ("fp32", "fp16", "int8")
CALIB_IMAGES = 100
GATE = "top1>=0.99"


def installed_targets() -> list[str]:
    return [t for t in targets() if engine_status(get_converter(t).engine).installed]


def run_demo(output: str | None = None, limit: int | None = None, force: bool = False) -> int:
    from rich.markup import escape
    from rich.table import Table

    from edgepack.cli.ui import err, fmt_cos, fmt_err, out, status, steps

    data = load_demo()
    images, labels = data.images[:limit], data.labels[:limit]
    spec = data.spec
    x = preprocess(images, spec["mean"], spec["std"])
    feeds = [{spec["input"]: x[i:i + 1]} for i in range(len(x))]
    engines = installed_targets()
    tmp = None
    if output is None:
        tmp = tempfile.TemporaryDirectory(prefix=private_prefix("demo"))
        output = str(Path(tmp.name) / "digits")
    rows = []
    n_art = sum(len([p for p in PRECISIONS if p != 'int8' or t in BUILDERS]) for t in engines)
    calib_dir = tempfile.TemporaryDirectory(prefix=private_prefix("demo-calib"))
    try:
        calib, held_out = Path(calib_dir.name) / "calib.npz", Path(calib_dir.name) / "eval.npz"
        np.savez(calib, **{spec["input"]: x[:CALIB_IMAGES]})
        np.savez(held_out, **{spec["input"]: x})
        quant = QuantizeOptions(calib=calib, eval=held_out, gate=GATE)
        with steps(2 + 4 * len(engines) + n_art, "demo") as advance:
            results = []
            for target in engines:  # one convert per target: int8 only where an int8 builder exists
                precisions = [p for p in PRECISIONS if p != "int8" or target in BUILDERS]
                results.append(convert(data.model, to=target, precision=precisions, out_dir=Path(output) / target,
                                       keep_going=True, force=force, progress=advance,
                                       quant=quant if "int8" in precisions else None,
                                       # LiteRT artifacts carry MediaPipe metadata (normalization, labels)
                                       converter_options={"tflite": {"metadata": spec}} if target == "tflite"
                                       else None))
            advance("held-out digits: ONNX Runtime")
            ref = np.concatenate([o[spec["output"]] for o in reference_outputs(results[0].prepared, feeds)])
            ref_acc = float(np.mean(ref.argmax(1) == labels))
            for r in (r for res in results for r in res.results):
                advance(f"held-out digits: {r.engine} {r.precision}")
                rows.append(_evaluate(r, feeds, spec["output"], ref, labels))
    finally:
        calib_dir.cleanup()
        if tmp is not None:
            tmp.cleanup()
    t = Table(title=f"edgepack demo: digits classifier, {len(labels)} held-out images "
                    f"(ONNX Runtime accuracy {ref_acc:.2%})")
    for col in ("engine", "precision", "accuracy", "top-1 = ORT", "cosine", "max abs err", "status"):
        t.add_column(col, justify="left" if col in ("engine", "precision", "status") else "right")
    for row in rows:
        t.add_row(row["engine"], row["precision"], _pct(row["accuracy"]), _pct(row["top1_agree"]),
                  fmt_cos(row["cosine"]), fmt_err(row["max_abs"]), status(row["ok"], row["error"]))
    out.print(t)
    for row in rows:
        if row["error"]:
            err.print(f"[red]{row['engine']} {row['precision']}:[/red] {escape(row['error'])}", soft_wrap=True)
    missing = [t for t in targets() if t not in engines]
    if missing:
        out.print(f"not installed here (skipped): {', '.join(missing)}")
    out.print(f"tolerance: cosine >= {TOLERANCE['fp32']} (fp32), >= {TOLERANCE['fp16']} (fp16), "
              f">= {TOLERANCE['int8']} (int8) vs ONNX Runtime; int8 calibrated on the first "
              f"{min(CALIB_IMAGES, len(labels))} held-out images (labels unused), gate {GATE} on all of them")
    if output is not None and tmp is None:
        out.print(f"artifacts kept in {output}")
    from edgepack.demo.bundle import (
        pack_and_classify,  # last step: the model as a bundle, one image through edgepack.load
    )

    with tempfile.TemporaryDirectory(prefix=private_prefix("demo-bundle")) as btmp:
        out.print(pack_and_classify(data, engines, Path(output) if tmp is None else Path(btmp)))
    return 0 if rows and all(r["ok"] for r in rows) else 1


def _evaluate(r: ArtifactResult, feeds: list[dict], output: str, ref: np.ndarray, labels: np.ndarray) -> dict:
    row = {"engine": r.engine, "precision": r.precision, "accuracy": None, "top1_agree": None, "cosine": None,
           "max_abs": None, "ok": False, "error": r.error}
    if r.artifact is None:
        return row
    try:
        got = np.concatenate([o[output] for o in run_in_onnx_layout(r.artifact, feeds)])
    except Error as e:  # reported in the table; the other engines still run
        row["error"] = str(e)
        return row
    a = agreement(ref, got, r.precision)
    row.update(accuracy=float(np.mean(got.argmax(1) == labels)), top1_agree=float(np.mean(got.argmax(1) ==
               ref.argmax(1))), cosine=a.cosine, max_abs=a.max_abs, ok=passes(a, r.precision))
    return row


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.2%}"
