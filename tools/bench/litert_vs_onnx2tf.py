"""edgepack's LiteRT writer vs onnx2tf (the standard ONNX -> TFLite route, through TensorFlow) on the same
models: conversion wall time, .tflite size, LiteRT latency and parity with ONNX Runtime. Prints ratios.

onnx2tf never enters edgepack's environment: it runs from a throwaway venv (default
/tmp/edgepack-onnx2tf-venv; `--setup` creates it with pip). For 4-D 3-channel inputs onnx2tf downloads a
calibration sample at conversion time; a same-named local file of random data is put in its working directory
instead (it is only used for int8 calibration, which this bench does not ask for).

    python tools/bench/litert_vs_onnx2tf.py [--setup] [--venv DIR] [--runs 50] [MODEL.onnx ...]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if importlib.util.find_spec("edgepack") is None:  # a source checkout without `pip install .`
    sys.path.insert(0, str(ROOT / "python"))

CALIBRATION = "calibration_image_sample_data_20x128x128x3_float32.npy"
O2T_PACKAGES = ["onnx2tf", "tensorflow", "tf-keras", "onnx-graphsurgeon", "sng4onnx", "psutil", "ai-edge-litert",
                "onnxruntime", "onnx<1.20"]


def default_models() -> list[Path]:
    return [ROOT / "python" / "edgepack" / "demo" / "digits.onnx",
            *sorted((ROOT / "tests" / "fixtures" / "zoo").glob("*.onnx"))]


def setup_venv(venv: Path) -> Path:
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *O2T_PACKAGES], check=True)
    return py


def run_onnx2tf(py: Path, onnx_path: Path, work: Path) -> tuple[float, Path | None, str]:
    """onnx2tf as a user runs it (its console entry point in a fresh process); wall time and the fp32 file."""
    work.mkdir(parents=True, exist_ok=True)
    np.save(work / CALIBRATION, np.random.default_rng(0).random((20, 128, 128, 3), dtype=np.float32))
    t0 = time.perf_counter()
    proc = subprocess.run([str(py), "-m", "onnx2tf", "-i", str(onnx_path), "-o", str(work / "out")], cwd=work,
                          capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - t0
    files = sorted((work / "out").glob("*_float32.tflite"))
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] if proc.returncode else []
    return seconds, (files[0] if files else None), " ".join(tail)[:200]


def run_edgepack(onnx_path: Path, work: Path) -> tuple[float, float, Path]:
    """edgepack's writer in a fresh process (imports included, like onnx2tf's run) and in-process."""
    work.mkdir(parents=True, exist_ok=True)
    dst = work / "model.tflite"
    code = ("import sys; from pathlib import Path; from edgepack.converters.prepare import prepare; "
            "from edgepack.converters.litert import build_tflite; p = prepare(sys.argv[1], sys.argv[2]); "
            "Path(sys.argv[3]).write_bytes(build_tflite(p.path)[0])")
    env = {"PYTHONPATH": str(ROOT / "python")}
    import os

    env = {**os.environ, **env}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(onnx_path), str(work / "prep"), str(dst)], check=True, env=env,
                   capture_output=True)
    wall = time.perf_counter() - t0
    from edgepack.converters.litert import build_tflite
    from edgepack.converters.prepare import prepare

    prepared = prepare(onnx_path, work / "prep2")
    t0 = time.perf_counter()
    build_tflite(prepared.path)
    return wall, time.perf_counter() - t0, dst


def feeds_for(onnx_path: Path, samples: int = 2) -> tuple[list[dict], list[list[np.ndarray]], list]:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = [{i.name: rng.standard_normal(i.shape).astype(np.float32) for i in sess.get_inputs()}
             for _ in range(samples)]
    return feeds, [sess.run(None, f) for f in feeds], sess.get_outputs()


def litert_run(path: Path, feeds: list[dict], ref_outputs: list, runs: int) -> tuple[float, float, float]:
    """Median latency (ms, 1 thread) and worst cosine / max abs error vs ONNX Runtime. Inputs and outputs are
    matched by name, else by shape (onnx2tf renames tensors and makes 4-D tensors NHWC)."""
    from ai_edge_litert.interpreter import Interpreter

    from edgepack.runtime.metrics import agreement

    it = Interpreter(model_path=str(path), num_threads=1)
    it.allocate_tensors()
    ins, outs = it.get_input_details(), it.get_output_details()
    cos, err = 1.0, 0.0
    for f, refs in zip(feeds, ref_outputs):
        for k, (name, x) in enumerate(f.items()):
            d = next((d for d in ins if d["name"] == name), ins[k])
            it.set_tensor(d["index"], _fit(x, list(d["shape"])))
        it.invoke()
        used = set()
        for r in refs:
            d = _match_output(outs, r, used)
            g = it.get_tensor(d["index"])
            if g.shape != r.shape:
                g = g.transpose(0, g.ndim - 1, *range(1, g.ndim - 1))
            a = agreement(r, g)
            cos, err = min(cos, a.cosine), max(err, a.max_abs)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        it.invoke()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3, cos, err


def _fit(x: np.ndarray, shape: list[int]) -> np.ndarray:
    if list(x.shape) == shape:
        return x
    if x.ndim >= 3 and list(x.transpose(0, *range(2, x.ndim), 1).shape) == shape:  # channels-last input
        return np.ascontiguousarray(x.transpose(0, *range(2, x.ndim), 1))
    raise ValueError(f"cannot feed {list(x.shape)} to {shape}")


def _match_output(outs: list[dict], ref: np.ndarray, used: set) -> dict:
    nhwc = list(ref.shape[:1]) + list(ref.shape[2:]) + list(ref.shape[1:2]) if ref.ndim >= 3 else None
    for want in (list(ref.shape), nhwc):
        for d in outs:
            if d["index"] not in used and list(d["shape"]) == want:
                used.add(d["index"])
                return d
    raise ValueError(f"no output of shape {list(ref.shape)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", type=Path)
    ap.add_argument("--venv", type=Path, default=Path("/tmp/edgepack-onnx2tf-venv"))
    ap.add_argument("--setup", action="store_true", help="create the onnx2tf venv if missing")
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args()
    py = args.venv / "bin" / "python"
    if args.setup:
        py = setup_venv(args.venv)
    if not py.exists():
        print(f"no onnx2tf venv at {args.venv}; run with --setup (pip install {' '.join(O2T_PACKAGES)})")
        return 2
    from edgepack.converters.prepare import prepare

    rows = []
    with tempfile.TemporaryDirectory(prefix="edgepack-bench-o2t-") as tmp:
        for m in args.models or default_models():
            work = Path(tmp) / m.stem
            prepared = prepare(m, work / "ref")  # both converters get the same prepared model
            feeds, refs, _ = feeds_for(prepared.path)
            ep_wall, ep_inproc, ep_file = run_edgepack(prepared.path, work / "edgepack")
            ep_ms, ep_cos, ep_err = litert_run(ep_file, feeds, refs, args.runs)
            o2t_wall, o2t_file, o2t_err = run_onnx2tf(py, prepared.path, work / "onnx2tf")
            row = dict(model=m.stem, ep_wall=ep_wall, ep_inproc=ep_inproc, ep_size=ep_file.stat().st_size,
                       ep_ms=ep_ms, ep_cos=ep_cos, ep_err=ep_err, o2t_wall=o2t_wall, o2t_error=o2t_err)
            if o2t_file is not None:
                try:
                    o_ms, o_cos, o_err = litert_run(o2t_file, feeds, refs, args.runs)
                    row.update(o2t_size=o2t_file.stat().st_size, o2t_ms=o_ms, o2t_cos=o_cos, o2t_maxerr=o_err)
                except Exception as e:  # onnx2tf wrote a file LiteRT cannot run as given
                    row["o2t_error"] = f"run: {e}"[:200]
            rows.append(row)
            print_row(row, flush=True)
            shutil.rmtree(work, ignore_errors=True)
    print_summary(rows)
    return 0


def print_row(r: dict, flush: bool = False) -> None:
    o2t = (f"onnx2tf {r['o2t_wall']:6.2f} s {r.get('o2t_size', 0) / 1024:7.1f} KB "
           f"{r.get('o2t_ms', float('nan')):7.3f} ms cos {r.get('o2t_cos', float('nan')):.7f} "
           f"max {r.get('o2t_maxerr', float('nan')):.2g}") if "o2t_size" in r else f"onnx2tf FAILED: {r['o2t_error']}"
    print(f"{r['model']:24s} edgepack {r['ep_wall']:5.2f} s ({r['ep_inproc'] * 1e3:6.1f} ms in-process) "
          f"{r['ep_size'] / 1024:7.1f} KB {r['ep_ms']:7.3f} ms cos {r['ep_cos']:.7f} max {r['ep_err']:.2g} | {o2t}",
          flush=flush)


def print_summary(rows: list[dict]) -> None:
    both = [r for r in rows if "o2t_size" in r]
    print(f"\n{len(rows)} models, onnx2tf produced a runnable file for {len(both)}")
    if not both:
        return

    def gmean(xs: list[float]) -> float:
        return float(np.exp(np.mean(np.log(xs))))

    print(f"conversion wall time, onnx2tf / edgepack (fresh processes): geo-mean "
          f"{gmean([r['o2t_wall'] / r['ep_wall'] for r in both]):.1f}x, "
          f"min {min(r['o2t_wall'] / r['ep_wall'] for r in both):.1f}x")
    print(f"conversion, onnx2tf wall / edgepack in-process: geo-mean "
          f"{gmean([r['o2t_wall'] / r['ep_inproc'] for r in both]):.0f}x")
    print(f"file size, edgepack / onnx2tf: geo-mean {gmean([r['ep_size'] / r['o2t_size'] for r in both]):.2f}")
    print(f"LiteRT latency, edgepack / onnx2tf: geo-mean {gmean([r['ep_ms'] / r['o2t_ms'] for r in both]):.2f}")
    print(f"parity vs ONNX Runtime (worst cosine): edgepack {min(r['ep_cos'] for r in both):.7f}, "
          f"onnx2tf {min(r['o2t_cos'] for r in both):.7f}; edgepack at least as close on "
          f"{sum(r['ep_err'] <= r['o2t_maxerr'] * 1.0001 + 1e-9 for r in both)}/{len(both)} models (max abs)")
    failed = [r["model"] for r in rows if "o2t_size" not in r]
    if failed:
        print(f"onnx2tf failed on: {', '.join(failed)}")


if __name__ == "__main__":
    sys.exit(main())
