"""PP-OCR text-line orientation (rapidocr-onnxruntime's cls model) through every engine and precision, on
rendered text lines.

The classifier is the `*cls*.onnx` the `rapidocr-onnxruntime` wheel carries (found in its package directory;
the package is never imported). Its input is a 48x192 text line, BGR, x = (p/255 - 0.5)/0.5 (rapidocr's
config.yaml, Cls); its output the two orientation probabilities (0 and 180 degrees). Lines are rendered with
Pillow and the DejaVu fonts at exactly 48x192 (so preprocessing never resizes), half of them turned by 180
degrees, from a fixed seed: one set calibrates int8, another (other seed) is held out.

Printed per engine x precision: top-1 agreement with ONNX Runtime fp32 on the held-out lines, the accuracy
against the true orientation (ONNX Runtime's too, as the model's own ceiling), and the cosine of the
probabilities.

    python tools/ppocr_cls_check.py [--calib N] [--eval N] [--to ncnn,mnn,tflite] [--json FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
if importlib.util.find_spec("edgepack") is None:  # a source checkout without `pip install .`
    sys.path.insert(0, str(ROOT / "python"))

import ppocr_det_check as det  # noqa: E402  (same folder: fonts, phrases)

H, W = 48, 192
MEAN, STD, COLOR = [127.5] * 3, [127.5] * 3, "BGR"


def cls_model() -> Path | None:
    return det.rapidocr_model("cls")


def render(out_dir: Path, n: int, seed: int) -> list[tuple[Path, int]]:
    """n text lines (PNG, 48x192) in out_dir; every other one turned by 180 degrees (label 1)."""
    from PIL import Image, ImageDraw, ImageFont

    faces = det.fonts()
    if not faces:
        raise FileNotFoundError(f"no DejaVu fonts in {det.FONT_DIR}; apt-get install fonts-dejavu-core")
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        im = Image.new("RGB", (W, H), tuple(rng.randint(190, 255) for _ in range(3)))
        font = ImageFont.truetype(str(rng.choice(faces)), rng.randint(22, 34))
        ImageDraw.Draw(im).text((rng.randint(2, 12), rng.randint(0, 8)), det._phrase(rng), font=font,
                                fill=tuple(rng.randint(0, 90) for _ in range(3)))
        label = i % 2
        if label:
            im = im.rotate(180)
        pix = np.asarray(im, np.float32) + nrng.normal(0.0, rng.uniform(2.0, 8.0), (H, W, 3))
        p = out_dir / f"line_{seed}_{i:04d}.png"
        Image.fromarray(np.clip(pix, 0, 255).astype(np.uint8)).save(p)
        out.append((p, label))
    return out


def check(model: Path, work: Path, engines: list[str], n_calib: int = 48, n_eval: int = 64,
          say=print) -> list[dict]:
    import edgepack
    from edgepack.api import reference_outputs, run_in_onnx_layout
    from edgepack.quantize import BUILDERS, QuantizeOptions
    from edgepack.quantize.calib import load_samples
    from edgepack.runtime.metrics import agreement

    calib_dir, eval_dir = work / "calib", work / "eval"
    render(calib_dir, n_calib, seed=1)
    labels = np.array([lab for _, lab in render(eval_dir, n_eval, seed=2)])
    spec = {"mean": MEAN, "std": STD, "color": COLOR}
    rows: list[dict] = []
    ref = None
    for eng in engines:
        precisions = ["fp32", "fp16"] + (["int8"] if eng in BUILDERS else [])
        quant = QuantizeOptions(calib=calib_dir, eval=eval_dir, preprocess=spec, calib_limit=n_calib)
        res = edgepack.convert(model, to=[eng], precision=precisions, out_dir=work / f"out-{eng}",
                               input_shapes={"x": [1, 3, H, W]}, keep_going=True, force=True,
                               quant=quant if "int8" in precisions else None,
                               progress=lambda s, e=eng: say(f"  [{e}] {s}"))
        feeds = load_samples(eval_dir, res.inputs, spec, None, "evaluation")
        name = res.outputs[0].name
        if ref is None:
            ref = np.stack([o[name].reshape(-1) for o in reference_outputs(res.prepared, feeds)])
            rows.append({"engine": "onnxruntime", "precision": "fp32", "agreement": 1.0,
                         "accuracy": float(np.mean(ref.argmax(1) == labels)), "cosine": 1.0})
        for r in res.results:
            row = {"engine": eng, "precision": r.precision, "error": r.error,
                   "form": (r.artifact.options.get("form") if r.artifact is not None else None)}
            if r.artifact is not None:
                got = np.stack([o[name].reshape(-1) for o in run_in_onnx_layout(r.artifact, feeds)])
                row.update(agreement=float(np.mean(got.argmax(1) == ref.argmax(1))),
                           accuracy=float(np.mean(got.argmax(1) == labels)), cosine=agreement(ref, got).cosine)
            rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    lines = [f"{'engine':12} {'precision':9} {'top-1 agree':>11} {'accuracy':>9} {'cosine':>9}"]
    for r in rows:
        if "agreement" not in r:
            lines.append(f"{r['engine']:12} {r['precision']:9} {'-':>11} {'-':>9} {'-':>9}  {r.get('error')}")
            continue
        lines.append(f"{r['engine']:12} {r['precision']:9} {r['agreement']:11.4f} {r['accuracy']:9.4f} "
                     f"{r['cosine']:9.5f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calib", type=int, default=48, help="calibration lines [48]")
    ap.add_argument("--eval", type=int, default=64, help="held-out lines [64]")
    ap.add_argument("--to", default="ncnn,mnn,tflite", help="engines [ncnn,mnn,tflite]")
    ap.add_argument("--json", default=None, help="write the rows as JSON here")
    args = ap.parse_args(argv)
    model = cls_model()
    if model is None:
        print("rapidocr-onnxruntime is not installed (pip install rapidocr-onnxruntime)", file=sys.stderr)
        return 2
    if not det.fonts():
        print(f"no DejaVu fonts in {det.FONT_DIR} (apt-get install fonts-dejavu-core)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="edgepack-ppocr-cls-") as tmp:
        print(f"model: {model.name}, input x: 1x3x{H}x{W}, {args.calib} calibration + {args.eval} held-out lines")
        rows = check(model, Path(tmp), [e.strip() for e in args.to.split(",") if e.strip()], args.calib, args.eval)
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
