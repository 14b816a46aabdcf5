"""P4: ncnn int8 vs ncnn fp32 on a ResNet-18-shaped model, 1 thread, in one process run.

    python tools/bench/p4_int8.py [--size 224] [--repeat 15] [--gate "cosine>=0.99"]

Builds ResNet-18 (plain torch, seeded random weights, BatchNorm statistics set by a forward pass over
image-like calibration tensors so activations have realistic ranges), exports it to ONNX, converts it with
`edgepack.convert(..., precision="fp32,int8", gate=...)`, then times both ncnn artifacts alternately (best
of --repeat after warm-up). Needs torch (see README). Last line: `P4 int8 speedup: X.XX` (fp32 ms / int8 ms).
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_kernels import best_ms  # same folder: best-of-N timing shared by the benchmarks

try:
    import edgepack
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
    import edgepack


def resnet18(num_classes: int = 1000):
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.b1 = nn.BatchNorm2d(cout)
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.b2 = nn.BatchNorm2d(cout)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            y = torch.relu(self.b1(self.c1(x)))
            y = self.b2(self.c2(y))
            return torch.relu(y + (x if self.down is None else self.down(x)))

    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, num_classes)]
    return nn.Sequential(*layers)


def image_like(n: int, size: int, seed: int) -> np.ndarray:
    """Smooth random images (low-frequency noise + gradients), normalised like ImageNet inputs."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, 3, size, size), np.float32)
    yy, xx = np.mgrid[0:size, 0:size] / size
    for i in range(n):
        small = rng.random((3, 8, 8)).astype(np.float32)
        up = np.kron(small, np.ones((size // 8, size // 8), np.float32))
        grad = (rng.random() * xx + rng.random() * yy).astype(np.float32)
        img = 0.6 * up + 0.3 * grad + 0.1 * rng.random((3, size, size)).astype(np.float32)
        out[i] = (img - 0.45) / 0.25
    return out



def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--gate", default="cosine>=0.99")
    ap.add_argument("--calib", type=int, default=40)
    args = ap.parse_args()
    import torch

    torch.manual_seed(0)
    model = resnet18()
    calib = image_like(args.calib, args.size, 1)
    model.train()
    with torch.no_grad():  # give BatchNorm realistic running statistics
        model(torch.from_numpy(calib[:16]))
    model.eval()
    from edgepack.quantize import QuantizeOptions

    with tempfile.TemporaryDirectory(prefix="p4-int8-") as tmp:
        onnx_path = Path(tmp) / "resnet18.onnx"
        torch.onnx.export(model, torch.from_numpy(calib[:1]), str(onnx_path), input_names=["input"],
                          output_names=["logits"], opset_version=17, dynamo=False)
        np.savez(Path(tmp) / "calib.npz", input=calib)
        t0 = time.perf_counter()
        res = edgepack.convert(onnx_path, to="ncnn", precision="fp32,int8", out_dir=Path(tmp) / "out",
                               quant=QuantizeOptions(calib=Path(tmp) / "calib.npz", gate=args.gate))
        print(f"convert + calibrate + gate: {time.perf_counter() - t0:.1f} s")
        r8 = next(r for r in res.results if r.precision == "int8")
        print(f"gate {args.gate}: {r8.quant['metrics']}; layers kept in float: {r8.quant['float_layers'] or 'none'}"
              f"; int8 layers: {len(r8.quant['int8_layers'])}")
        eng_cls = edgepack.get_engine("ncnn")
        feeds = {"input": image_like(1, args.size, 99)}
        fp32 = eng_cls.load(res.artifact("ncnn", "fp32"), threads=1)
        int8 = eng_cls.load(res.artifact("ncnn", "int8"), threads=1)
        t32, t8 = [], []
        for _ in range(3):  # alternate so machine noise hits both
            t32.append(best_ms(functools.partial(fp32.run, feeds), args.repeat // 3 + 1))
            t8.append(best_ms(functools.partial(int8.run, feeds), args.repeat // 3 + 1))
        a, b = min(t32), min(t8)
        print(f"ncnn fp32: {a:.2f} ms   ncnn int8: {b:.2f} ms   (1 thread, {args.size}x{args.size}, best of "
              f"{args.repeat})")
        print(f"P4 int8 speedup: {a / b:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
