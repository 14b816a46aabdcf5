"""Train edgepack's demo model: a small CNN on scikit-learn's handwritten digits.

Writes, under python/edgepack/demo/:
  digits.onnx          input `image` [1,3,32,32] float32 NCHW, output `logits` [1,10]
  digits_heldout.npz   `images` uint8 [N,32,32,3] RGB HWC and `labels` int64 [N], never used in training
  digits.json          preprocessing spec, labels and the held-out accuracy measured with ONNX Runtime

The 8x8 digits (values 0..16) are upscaled bilinearly to 32x32, mapped to 0..255 uint8 and replicated to
three channels, so the held-out set looks like what a user would feed the model: RGB bytes. Training
consumes exactly those bytes, normalized as (pixel - mean) / std.

Deterministic: fixed seeds, deterministic algorithms and a fixed thread count. Runs in under a minute on
two cores. Usage: python tools/train_demo.py [--out-dir DIR] [--epochs N]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

SEED = 20261121
SIZE = 32
MEAN = [127.5, 127.5, 127.5]
STD = [127.5, 127.5, 127.5]
HELDOUT_FRACTION = 0.2
MIN_HELDOUT_ACCURACY = 0.97
OPSET = 17
REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "python" / "edgepack" / "demo"
DEMO_FILES = ("digits.onnx", "digits_heldout.npz", "digits.json")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch, and make torch deterministic on CPU."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # thread count changes float reduction order; pin it for reproducibility


def load_rgb_digits() -> tuple[np.ndarray, np.ndarray]:
    """Return the digits as uint8 [N,32,32,3] RGB images and int64 [N] labels."""
    digits = load_digits()
    small = torch.from_numpy(digits.images.astype(np.float32) * (255.0 / 16.0))[:, None]  # [N,1,8,8]
    big = F.interpolate(small, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    gray = big[:, 0].round().clamp(0, 255).to(torch.uint8).numpy()
    rgb = np.repeat(gray[..., None], 3, axis=-1)
    return np.ascontiguousarray(rgb), digits.target.astype(np.int64)


def to_input(images: np.ndarray) -> torch.Tensor:
    """uint8 [N,H,W,3] RGB -> normalized float32 [N,3,H,W], the model's input contract."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float()
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


class DigitsNet(nn.Module):
    """Three conv blocks, global average pool, one Linear: ~24k parameters."""

    def __init__(self) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

        self.features = nn.Sequential(
            *block(3, 16), nn.MaxPool2d(2),  # 16x16
            *block(16, 32), nn.MaxPool2d(2),  # 8x8
            *block(32, 64),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.classifier = nn.Linear(64, 10)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(image))


def random_shift(x: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Translate each image by up to +-max_shift pixels, filling with the background (pixel 0)."""
    n, _, h, w = x.shape
    background = (0.0 - MEAN[0]) / STD[0]
    padded = F.pad(x, [max_shift] * 4, value=background)
    offsets = torch.randint(0, 2 * max_shift + 1, (n, 2), generator=gen)
    return torch.stack([padded[i, :, dy:dy + h, dx:dx + w] for i, (dy, dx) in enumerate(offsets.tolist())])


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Top-1 accuracy of a torch model in eval mode."""
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def train(x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> DigitsNet:
    """Train DigitsNet with AdamW, a one-cycle schedule and random shifts of up to 2 pixels."""
    model = DigitsNet()
    gen = torch.Generator().manual_seed(seed)
    batch = 64
    steps = epochs * ((len(x) + batch - 1) // batch)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=steps)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            loss = F.cross_entropy(model(random_shift(x[idx], 2, gen)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        if epoch % 5 == 4 or epoch == epochs - 1:
            print(f"epoch {epoch + 1:3d}  loss {total / len(x):.4f}  train acc {accuracy(model, x, y):.4f}")
    model.eval()
    return model


def export_onnx(model: nn.Module, path: Path) -> None:
    """Export with the TorchScript exporter at opset 17, fixed batch 1, then run the ONNX checker."""
    dummy = torch.zeros(1, 3, SIZE, SIZE)
    torch.onnx.export(
        model, (dummy,), str(path), opset_version=OPSET, dynamo=False,
        input_names=["image"], output_names=["logits"], do_constant_folding=True,
    )
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    proto.producer_name, proto.producer_version = "edgepack tools/train_demo.py", ""
    proto.doc_string = "edgepack demo: digits classifier (scikit-learn digits, 32x32 RGB)"
    onnx.save(proto, str(path))


def onnxruntime_accuracy(path: Path, images: np.ndarray, labels: np.ndarray) -> float:
    """Held-out accuracy of the exported file, one image per run (the graph has batch 1)."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    x = to_input(images).numpy()
    preds = [int(sess.run(["logits"], {"image": x[i:i + 1]})[0].argmax()) for i in range(len(x))]
    return float((np.array(preds) == labels).mean())


def write_demo_files(
    model: nn.Module, images: np.ndarray, labels: np.ndarray, idx_held: np.ndarray, out_dir: Path,
    seed: int, train_acc: float,
) -> None:
    """Export, measure held-out accuracy with ONNX Runtime, and write the three demo files to out_dir."""
    onnx_path = out_dir / "digits.onnx"
    export_onnx(model, onnx_path)
    held_ort = onnxruntime_accuracy(onnx_path, images[idx_held], labels[idx_held])
    print(f"held-out acc (onnxruntime, {onnx_path.name}) {held_ort:.4f}")
    if held_ort < MIN_HELDOUT_ACCURACY:
        raise SystemExit(f"held-out accuracy {held_ort:.4f} < {MIN_HELDOUT_ACCURACY}: demo set not written")

    np.savez_compressed(out_dir / "digits_heldout.npz", images=images[idx_held], labels=labels[idx_held])
    meta = {
        "input": "image", "output": "logits", "size": [SIZE, SIZE], "layout": "NCHW", "color": "RGB",
        "mean": MEAN, "std": STD, "labels": [str(i) for i in range(10)],
        "heldout_accuracy_onnxruntime": round(held_ort, 6), "heldout_count": len(idx_held),
        "train_accuracy": round(train_acc, 6),
        "dataset": "sklearn.datasets.load_digits, 8x8 upscaled bilinearly to 32x32",
        "train_script": "tools/train_demo.py", "seed": seed, "opset": OPSET,
    }
    (out_dir / "digits.json").write_text(json.dumps(meta, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    """Train, export, verify with ONNX Runtime and write the demo files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    seed_everything(args.seed)

    images, labels = load_rgb_digits()
    idx_train, idx_held = train_test_split(
        np.arange(len(labels)), test_size=HELDOUT_FRACTION, stratify=labels, random_state=args.seed,
    )
    idx_train, idx_held = np.sort(idx_train), np.sort(idx_held)
    print(f"digits: {len(labels)} images, train {len(idx_train)}, held-out {len(idx_held)}")

    x_train, y_train = to_input(images[idx_train]), torch.from_numpy(labels[idx_train])
    model = train(x_train, y_train, args.epochs, args.seed)
    train_acc = accuracy(model, x_train, y_train)
    held_torch = accuracy(model, to_input(images[idx_held]), torch.from_numpy(labels[idx_held]))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"params {n_params}  train acc {train_acc:.4f}  held-out acc (torch) {held_torch:.4f}")

    with tempfile.TemporaryDirectory(prefix="edgepack-demo-") as tmp:
        staging = Path(tmp)
        write_demo_files(model, images, labels, idx_held, staging, args.seed, train_acc)
        args.out_dir.mkdir(parents=True, exist_ok=True)
        for name in DEMO_FILES:  # only a fully verified set replaces the committed one
            shutil.move(staging / name, args.out_dir / name)
            print(f"wrote {args.out_dir / name} ({(args.out_dir / name).stat().st_size} bytes)")


if __name__ == "__main__":
    main()
