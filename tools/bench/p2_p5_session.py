"""Session overhead on a MobileNetV2-shaped classifier (issue 6 goals P2 <= 1.05, P5 <= 1.10).

Builds MobileNetV2 (width 1.0, 224x224, 1000 classes, random weights, BatchNorm folded, ReLU6 as Clip) with
onnx.helper, packs it with `edgepack pack` (ncnn + MNN, fp32), then for every artifact measures in child
processes:
  P2 = median Session.run(image) / median engine.run(tensor of that image), alternating call by call
       (image: a 640x480 RGB camera frame, so preprocessing includes the resize; also shown for a 224x224 image)
  P5 = median [edgepack.load(bundle) + first Session.run] / median [engine load of the extracted artifact +
       first engine.run], each sample a fresh process.
The last two lines are for the artifact edgepack.load(engine="auto") chooses here.

    PYTHONPATH=python python tools/bench/p2_p5_session.py [--threads 2] [--runs 100] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# (expansion t, channels c, repeats n, first stride s): torchvision's MobileNetV2 settings
SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
            (6, 320, 1, 1)]


def mobilenet_v2(path: Path, classes: int = 1000, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    count = [0]

    def conv(x: str, cin: int, cout: int, k: int, stride: int, groups: int = 1, relu6: bool = True) -> str:
        i = count[0]
        count[0] += 1
        fan_in = cin // groups * k * k
        w = (rng.standard_normal((cout, cin // groups, k, k)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        inits.extend([numpy_helper.from_array(w, f"w{i}"),
                      numpy_helper.from_array((rng.standard_normal(cout) * 0.01).astype(np.float32), f"b{i}")])
        y = f"conv{i}"
        nodes.append(helper.make_node("Conv", [x, f"w{i}", f"b{i}"], [y], kernel_shape=[k, k], strides=[stride] * 2,
                                      pads=[k // 2] * 4, group=groups, name=y))
        if relu6:
            nodes.append(helper.make_node("Clip", [y, "zero", "six"], [y + "_r6"], name=y + "_relu6"))
            y += "_r6"
        return y

    inits += [numpy_helper.from_array(np.array(0, np.float32), "zero"),
              numpy_helper.from_array(np.array(6, np.float32), "six")]
    x, cin = conv("input", 3, 32, 3, 2), 32
    for t, c, n, s in SETTINGS:
        for j in range(n):
            stride = s if j == 0 else 1
            hidden = cin * t
            y = conv(x, cin, hidden, 1, 1) if t != 1 else x
            y = conv(y, hidden, hidden, 3, stride, groups=hidden)
            y = conv(y, hidden, c, 1, 1, relu6=False)
            if stride == 1 and cin == c:
                nodes.append(helper.make_node("Add", [x, y], [y + "_add"], name=y + "_add"))
                y += "_add"
            x, cin = y, c
    x = conv(x, cin, 1280, 1, 1)
    nodes += [helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"),
              helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"),
              helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1, name="fc")]
    inits += [numpy_helper.from_array((rng.standard_normal((classes, 1280)) * 0.03).astype(np.float32), "fc_w"),
              numpy_helper.from_array(np.zeros(classes, np.float32), "fc_b")]
    g = helper.make_graph(nodes, "mobilenet_v2", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                                                [1, 3, 224, 224])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, classes])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(path))
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    ap.add_argument("--runs", type=int, default=100, help="timed Session.run / engine.run pairs (P2)")
    ap.add_argument("--repeats", type=int, default=5, help="fresh-process load samples per side (P5)")
    ap.add_argument("--to", default="ncnn,mnn")
    args = ap.parse_args()

    from edgepack.pack import PackOptions, pack
    from edgepack.runtime.bench.overhead import load_overhead, measure_session_overhead
    from edgepack.runtime.bundle.reader import Bundle
    from edgepack.runtime.session import load

    with tempfile.TemporaryDirectory(prefix="p2p5-") as tmp:
        model = mobilenet_v2(Path(tmp) / "mobilenet_v2.onnx")
        opts = PackOptions(task="classify", mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
        bundle = Path(tmp) / "mobilenet_v2.edgepack"
        res = pack(model, bundle, opts, to=args.to, precision="fp32", bench_runs=0)
        print(f"packed {bundle.name}: {bundle.stat().st_size / 1e6:.1f} MB, artifacts "
              f"{', '.join(f'{r.engine}-{r.precision}' for r in res.convert.results)}; threads {args.threads}")
        with load(bundle, threads=args.threads) as s:
            auto = s.choice.key
        rows = {}
        with Bundle(bundle) as b:
            for entry in b.manifest.artifacts:
                art = b.artifact(entry["engine"], entry["precision"])
                cam = measure_session_overhead(bundle, art.engine, art.precision, args.threads, args.runs, (640, 480))
                net = measure_session_overhead(bundle, art.engine, art.precision, args.threads, args.runs)
                p5 = load_overhead(bundle, art, args.threads, repeats=args.repeats, image_size=(640, 480))
                rows[art.key] = (cam, net, p5)
                post = "" if cam["post"] else "  (no postprocess kernels in this build: pre + inference only)"
                print(f"{art.key:10s} P2 640x480: session {cam['session_ms']:.3f} ms / engine "
                      f"{cam['engine_ms']:.3f} ms = {cam['ratio']:.3f}   224x224: {net['ratio']:.3f}   "
                      f"P5: load+first {p5['session_ms']:.1f} ms / engine {p5['engine_ms']:.1f} ms = "
                      f"{p5['ratio']:.3f}   P5 cpu: {p5['session_cpu_ms']:.1f} / {p5['engine_cpu_ms']:.1f} ms = "
                      f"{p5['cpu_ratio']:.3f}{post}")
        cam, _, p5 = rows[auto]
        print(f"auto choice here: {auto}")
        print(f"P2 session overhead: {cam['ratio']:.2f}")
        print(f"P5 load overhead: {p5['ratio']:.2f} (cpu time: {p5['cpu_ratio']:.2f})")


if __name__ == "__main__":
    main()
