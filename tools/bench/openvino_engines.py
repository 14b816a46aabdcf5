"""OpenVINO vs ncnn / MNN / LiteRT, fp32 / fp16 / int8, 1 and 2 threads, side by side in one process run.

    python tools/bench/openvino_engines.py [--models resnet_bn,upsample_concat_head,...] [--no-ppocr]
                                           [--precisions fp32,fp16,int8] [--threads 1,2] [--repeat 10]
                                           [--json FILE]

Models: the zoo's larger models (tests/fixtures/zoo, calibrated on seeded standard-normal tensors) and, when
rapidocr-onnxruntime and the DejaVu fonts are installed, PP-OCRv4 det at 1x3x320x320 (calibrated on 24
rendered text images, tools/ppocr_det_check.py). Every model goes through `edgepack.convert` to every
engine (int8 without a gate: this measures speed, the accuracy numbers are in the README), then all
artifacts of one model are loaded in this process and timed in alternating rounds (best of --repeat per
round, best over 3 rounds) so machine noise hits every engine alike. Printed per row: ms per engine and
the ratio engine / OpenVINO (above 1: OpenVINO is faster). The baseline is OpenVINO at the same precision
and thread count.
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

ROOT = Path(__file__).resolve().parents[2]
try:
    import edgepack
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, str(ROOT / "python"))
    import edgepack

sys.path.insert(0, str(ROOT / "tools"))
ZOO = ROOT / "tests" / "fixtures" / "zoo"
ENGINES = {"openvino": "openvino", "ncnn": "ncnn", "mnn": "mnn", "litert": "tflite"}  # engine -> --to
DEFAULT_MODELS = "resnet_bn,upsample_concat_head,se_hardswish,layernorm_attention"


def zoo_case(name: str, work: Path) -> tuple[Path, dict, object]:
    """(model, convert kwargs, one input feed) for a zoo model; calibration: seeded normal tensors."""
    import onnx

    model = ZOO / f"{name}.onnx"
    g = onnx.load(str(model), load_external_data=False).graph
    shapes = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in g.input}
    rng = np.random.default_rng(3)
    calib = work / f"{name}-calib.npz"
    np.savez(calib, **{k: rng.standard_normal((32, *v)).astype(np.float32) for k, v in shapes.items()})
    feed = {k: rng.standard_normal(v).astype(np.float32) for k, v in shapes.items()}
    return model, {"calib": calib, "preprocess": None, "shapes": None}, feed


def ppocr_case(work: Path):
    import ppocr_det_check as ppocr

    model = ppocr.det_model()
    if model is None or not ppocr.fonts():
        return None
    calib = work / "ppocr-calib"
    ppocr.render(calib, 24, seed=1)
    spec = {"mean": ppocr.MEAN, "std": ppocr.STD, "color": ppocr.COLOR}
    from edgepack.quantize.calib import load_samples
    from edgepack.runtime.artifact import TensorInfo

    ppocr.render(work / "ppocr-eval", 1, seed=2)
    feed = load_samples(work / "ppocr-eval", [TensorInfo("x", [1, 3, 320, 320], "float32")], spec, 1)[0]
    return model, {"calib": calib, "preprocess": spec, "shapes": {"x": [1, 3, 320, 320]}}, feed


def convert_all(model: Path, kw: dict, precisions: list[str], out: Path) -> dict[tuple[str, str], object]:
    from edgepack.quantize import QuantizeOptions

    arts = {}
    for engine, target in ENGINES.items():
        quant = QuantizeOptions(calib=kw["calib"], preprocess=kw["preprocess"], calib_limit=32)
        res = edgepack.convert(model, to=target, precision=precisions, out_dir=out / target, keep_going=True,
                               force=True, input_shapes=kw["shapes"], quant=quant if "int8" in precisions else None)
        for r in res.results:
            if r.artifact is not None:
                arts[(engine, r.precision)] = r.artifact
            else:
                print(f"  {model.stem} {engine} {r.precision}: not converted ({r.error})")
    return arts


def time_all(arts: dict, feed: dict, threads: int, repeat: int) -> dict[tuple[str, str], float]:
    engines = {}
    for key, art in arts.items():
        try:
            engines[key] = edgepack.get_engine(art.engine).load(art, threads=threads)
        except edgepack.Error as e:
            print(f"  {key}: cannot load ({e})")
    best: dict[tuple[str, str], float] = {k: float("inf") for k in engines}
    for _ in range(3):  # alternate engines so machine noise hits all of them
        for key, eng in engines.items():
            best[key] = min(best[key], best_ms(functools.partial(eng.run, feed), repeat))
    for eng in engines.values():
        eng.close()
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=DEFAULT_MODELS, help=f"zoo models [{DEFAULT_MODELS}]")
    ap.add_argument("--no-ppocr", action="store_true", help="skip PP-OCRv4 det")
    ap.add_argument("--precisions", default="fp32,fp16,int8")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--json", default=None, help="write the rows as JSON here")
    args = ap.parse_args(argv)
    precisions = args.precisions.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="edgepack-bench-ov-") as tmp:
        work = Path(tmp)
        cases = [(m, *zoo_case(m, work)) for m in args.models.split(",") if m]
        if not args.no_ppocr:
            pp = ppocr_case(work)
            if pp is None:
                print("PP-OCRv4 det skipped: needs rapidocr-onnxruntime and fonts-dejavu-core")
            else:
                cases.append(("ppocrv4_det_320", *pp))
        for name, model, kw, feed in cases:
            print(f"{name}: converting to {', '.join(ENGINES)} ({', '.join(precisions)})", flush=True)
            arts = convert_all(model, kw, precisions, work / name)
            for t in threads:
                ms = time_all(arts, feed, t, args.repeat)
                for p in precisions:
                    rows.append({"model": name, "precision": p, "threads": t,
                                 "ms": {e: ms.get((e, p)) for e in ENGINES}})
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


def print_table(rows: list[dict]) -> None:
    names = list(ENGINES)
    print(f"\n{'model':24} {'prec':5} {'thr':>3} " + " ".join(f"{e + ' ms':>12}" for e in names) + "   " +
          " ".join(f"{e + '/ov':>10}" for e in names[1:]))
    for r in rows:
        ms = r["ms"]
        base = ms.get("openvino")
        cells = " ".join(f"{ms[e]:12.3f}" if ms.get(e) else f"{'-':>12}" for e in names)
        ratios = " ".join(f"{ms[e] / base:10.2f}" if ms.get(e) and base else f"{'-':>10}" for e in names[1:])
        print(f"{r['model']:24} {r['precision']:5} {r['threads']:3d} {cells}   {ratios}")


if __name__ == "__main__":
    sys.exit(main())
