"""int8 vs fp32 for every zoo model x engine (ncnn, MNN, LiteRT), both written by edgepack, in one process run.

    python tools/bench/int8_vs_fp32.py [--models resnet_bn,se_hardswish] [--to ncnn,mnn,tflite] [--threads 1]
                                       [--repeat 30] [--json FILE] [--onnx M.onnx --input-shape x=1,3,320,320]

Each zoo model (tests/fixtures/zoo) is converted to fp32 + int8 per engine (calibrated on 32 seeded normal
tensors, no gate: the speed of the all-int8 model), then both artifacts run through edgepack's engine adapters
alternately, three rounds of best-of---repeat after warm-up, so drift on a shared machine hits both. Printed per
model x engine: fp32 ms, int8 ms, the ratio fp32/int8 (> 1: int8 is faster) and int8's cosine vs ONNX Runtime.
A cell that cannot be built says why (an engine without the model's ops, an int8 builder refusing it).
`--onnx` adds a model of your own (e.g. PP-OCRv4 det from the rapidocr-onnxruntime wheel, a real-size network)
with its input shape fixed by `--input-shape`.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from bench_kernels import best_ms  # same folder: best-of-N timing shared by the benchmarks

try:
    import edgepack
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
    import edgepack

ZOO = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "zoo"


def bench_one(src: Path, target: str, work: Path, threads: int, repeat: int,
              fixed: dict[str, list[int]] | None = None) -> dict:
    import onnx

    from edgepack.quantize import QuantizeOptions
    from edgepack.runtime.engines import get_engine

    inputs = onnx.load(str(src), load_external_data=False).graph.input
    shapes = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in inputs}
    shapes.update(fixed or {})
    rng = np.random.default_rng(0)
    calib = work / f"{src.stem}-{target}.npz"
    np.savez(calib, **{k: rng.standard_normal([32, *s]).astype(np.float32) for k, s in shapes.items()})
    row: dict = {"model": src.stem, "engine": target}
    try:
        res = edgepack.convert(src, to=target, precision="fp32,int8", out_dir=work / f"{src.stem}-{target}",
                               keep_going=True, force=True, quant=QuantizeOptions(calib=calib), input_shapes=fixed)
    except edgepack.Error as e:
        return {**row, "error": str(e)}
    bad = [r for r in res.results if r.artifact is None]
    if bad:
        return {**row, "error": f"{bad[0].precision}: {bad[0].error}"}
    feeds = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    engine = res.results[0].engine
    cls = get_engine(engine)
    engs = {r.precision: cls.load(r.artifact, threads=threads) for r in res.results}
    try:
        ms: dict[str, list[float]] = {p: [] for p in engs}
        for _ in range(3):
            for p, e in engs.items():
                ms[p].append(best_ms(functools.partial(e.run, feeds), repeat))
    finally:
        for e in engs.values():
            e.close()
    f, q = min(ms["fp32"]), min(ms["int8"])
    parity = res.results[1].parity
    return {**row, "fp32_ms": f, "int8_ms": q, "ratio": f / q,
            "int8_cosine": parity.overall.cosine if parity is not None else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(sorted(p.stem for p in ZOO.glob("*.onnx"))))
    ap.add_argument("--to", default="ncnn,mnn,tflite")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--json", default=None, help="write the rows here")
    ap.add_argument("--onnx", default=None, help="also bench this model (alone when --models is empty)")
    ap.add_argument("--input-shape", action="append", default=[], metavar="NAME=1,3,H,W")
    a = ap.parse_args()
    from edgepack.converters.prepare import parse_input_shapes

    fixed = parse_input_shapes(tuple(a.input_shape))
    models = [ZOO / f"{m}.onnx" for m in a.models.split(",") if m] + ([Path(a.onnx)] if a.onnx else [])
    rows = []
    print(f"{'model':24} {'engine':7} {'fp32 ms':>8} {'int8 ms':>8} {'fp32/int8':>9} {'int8 cos':>9}", flush=True)
    with tempfile.TemporaryDirectory(prefix="edgepack-bench-") as tmp:
        for src in models:
            name = src.stem
            for target in a.to.split(","):
                r = bench_one(src, target, Path(tmp), a.threads, a.repeat, fixed if src == models[-1] and a.onnx
                              else None)
                rows.append(r)
                if "error" in r:
                    print(f"{name:24} {target:7} {'-':>8} {'-':>8} {'-':>9} {'-':>9}  {r['error'][:100]}", flush=True)
                else:
                    cos = f"{r['int8_cosine']:.5f}" if r["int8_cosine"] is not None else "-"
                    print(f"{name:24} {target:7} {r['fp32_ms']:8.3f} {r['int8_ms']:8.3f} {r['ratio']:8.2f}x "
                          f"{cos:>9}", flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))
    slower = [f"{r['model']}/{r['engine']}" for r in rows if r.get("ratio", 1.0) < 1.0]
    print(f"int8 slower than fp32: {', '.join(slower) or 'none'} ({a.threads} thread{'s' if a.threads > 1 else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
