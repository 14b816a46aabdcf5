"""`edgepack verify OUT`: every artifact of a convert output directory against ONNX Runtime fp32 on the
same inputs (given --data, else the seeded inputs convert used): per output cosine, max abs error, mean
relative error, top-1/top-5 agreement for classifier outputs; ncnn CPU vs ncnn Vulkan; the first layer where
ncnn int8 diverges from ncnn fp32."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgepack.api import reference_outputs
from edgepack.converters.prepare import PreparedModel
from edgepack.errors import Error, InputError
from edgepack.runtime._isolate import call_isolated
from edgepack.runtime.artifact import Artifact, load_artifacts, seeded_inputs
from edgepack.runtime.metrics import TOLERANCE, agreement, passes, tolerance_model
from edgepack.verify.diagnose import first_divergence
from edgepack.verify.parity import run_artifact_isolated

Feeds = list[dict[str, np.ndarray]]


def output_metrics(ref: Feeds, got: Feeds, precision: str = "fp32") -> dict[str, dict]:
    """Per output: the tolerance model's agreement at `precision` (runtime/metrics.py) and its verdict,
    mean relative error, top-1/top-5 agreement for classifier outputs."""
    out = {}
    for name in ref[0]:
        r = np.stack([np.asarray(s[name], np.float64) for s in ref])
        g = np.stack([np.asarray(s[name], np.float64) for s in got])
        a = agreement(r, g, precision)
        rel = float(np.mean(np.abs(g - r)) / max(float(np.mean(np.abs(r))), 1e-12))
        m = {"cosine": a.cosine, "max_abs": a.max_abs, "mean_rel": rel, "mismatch": a.mismatch,
             "pass": passes(a, precision)}
        if r.ndim == 3 and r.shape[1] == 1 and r.shape[2] >= 2:  # [samples, 1, classes]: a classifier
            rr, gg = r[:, 0], g[:, 0]
            m["top1"] = float(np.mean(rr.argmax(1) == gg.argmax(1)))
            k = min(5, rr.shape[1])
            top_r, top_g = np.argsort(-rr, 1)[:, :k], np.argsort(-gg, 1)[:, :k]
            m["top5"] = float(np.mean([set(a_) == set(b_) for a_, b_ in zip(top_r, top_g)]))
        out[name] = m
    return out


def vulkan_devices() -> int:
    import ncnn

    return int(ncnn.get_gpu_count())


def verify(out_dir: str | Path, data: str | Path | None = None, vulkan: bool = True, limit: int = 16,
           progress: Callable[[str], None] | None = None) -> dict:
    say = progress or (lambda s: None)
    d = Path(out_dir)
    artifacts = load_artifacts(d)
    doc = json.loads((d / "convert.json").read_text())
    from edgepack.runtime.artifact import TensorInfo

    inputs = [TensorInfo.from_dict(t) for t in doc["inputs"]]
    outputs = [TensorInfo.from_dict(t) for t in doc["outputs"]]
    prepared = PreparedModel(d / doc["prepared"]["file"], doc["source"]["path"], inputs, outputs, 0)
    if data is not None:
        from edgepack.quantize.calib import load_samples

        feeds, kind = load_samples(data, inputs, None, limit, "verification"), f"data: {data}"
    else:
        pi = doc.get("parity_inputs", {})
        seed, n = int(pi.get("seed", 0)), int(pi.get("samples", 2))
        feeds, kind = [seeded_inputs(inputs, seed + i) for i in range(n)], f"seeded normal, seed {seed}"
    say("reference: ONNX Runtime fp32")
    ref = reference_outputs(prepared, feeds)
    rows, notes = [], []
    for art in artifacts:
        say(f"verify: {art.engine} {art.precision}")
        row = {"engine": art.engine, "precision": art.precision, "device": "cpu", "dir": Path(art.directory).name}
        try:
            row["outputs"] = output_metrics(ref, run_artifact_isolated(art, feeds), art.precision)
            row["ok"] = all(m["pass"] for m in row["outputs"].values())
        except Error as e:
            row.update(ok=False, error=str(e))
        rows.append(row)
    gpu = _vulkan_rows(artifacts, feeds, vulkan, say, notes)
    rows += gpu
    diag = None
    ncnn32 = next((a for a in artifacts if a.engine == "ncnn" and a.precision == "fp32"), None)
    ncnn8 = next((a for a in artifacts if a.engine == "ncnn" and a.precision == "int8"), None)
    if ncnn32 is not None and ncnn8 is not None:
        say("diagnose: ncnn fp32 vs int8 per layer")
        diag = first_divergence(ncnn32, ncnn8, feeds[:4])
    elif ncnn8 is None:
        notes.append("no ncnn int8 artifact: per-layer diagnosis skipped")
    return {"schema": "edgepack.verify/1", "dir": str(d), "inputs": kind, "samples": len(feeds),
            "tolerance": TOLERANCE, "tolerance_model": tolerance_model(), "artifacts": rows,
            "ncnn_int8_layers": diag, "notes": notes,
            "ok": all(r.get("ok", False) for r in rows)}


def _vulkan_rows(artifacts: list[Artifact], feeds: Feeds, vulkan: bool, say, notes: list[str]) -> list[dict]:
    ncnn_arts = [a for a in artifacts if a.engine == "ncnn"]
    if not ncnn_arts:
        return []
    if not vulkan:
        notes.append("ncnn Vulkan skipped (--no-vulkan)")
        return []
    try:
        count = call_isolated(vulkan_devices, what="ncnn Vulkan probe")
    except Error as e:
        count, why = 0, str(e)
    else:
        why = "ncnn found no Vulkan device (install a driver, e.g. apt-get install mesa-vulkan-drivers libvulkan1)"
    if count == 0:
        notes.append(f"ncnn Vulkan skipped: {why}")
        return []
    rows = []
    for art in ncnn_arts:
        say(f"verify: ncnn {art.precision} Vulkan vs CPU")
        row = {"engine": "ncnn", "precision": art.precision, "device": "vulkan", "dir": Path(art.directory).name}
        try:
            cpu = run_artifact_isolated(art, feeds)
            gpu = run_artifact_isolated(art, feeds, device="vulkan")
            # the GPU path stores fp16 by default: hold it to the fp16 tolerance against the CPU run
            row["outputs"] = output_metrics(cpu, gpu, "fp16")
            row["ok"] = all(m["pass"] for m in row["outputs"].values())
            row["vs"] = "ncnn cpu"
        except Error as e:
            row.update(ok=False, error=str(e))
        rows.append(row)
    return rows


def check_out_dir(out_dir: str | Path) -> Path:
    d = Path(out_dir)
    if not (d / "convert.json").exists():
        raise InputError(f"'{d}' has no convert.json; pass a directory written by edgepack convert")
    return d
