"""PP-OCRv4 text detection through every engine and precision, on rendered text images.

The detector is the ONNX file the `rapidocr-onnxruntime` wheel carries (found in its package directory, the
package is never imported). Text images are rendered with Pillow and the DejaVu fonts (Debian
fonts-dejavu-core): random words and numbers in several fonts and sizes, dark text on light backgrounds, with
pixel noise, from a fixed seed. One set calibrates int8, a second one (other seed) is held out for the gate
and for the numbers printed here.

The model is converted at a fixed input size (x: 1x3xSxS) to fp32/fp16 (and int8 where
`edgepack.quantize.BUILDERS` has a builder for the engine) and every artifact runs on the held-out images
next to ONNX Runtime fp32. Printed per engine x precision: IoU of the probability maps thresholded at 0.3
(PP-OCR's DB postprocess threshold: what becomes text pixels), cosine and max abs error of the maps.

Preprocessing is rapidocr's (its config.yaml, Det): BGR pixels, x = (p/255 - 0.5)/0.5, i.e. mean 127.5 and
std 127.5 per channel.

    python tools/ppocr_det_check.py [--calib N] [--eval N] [--size S] [--to ncnn,mnn,tflite,openvino] [--gate G]
                                    [--keep DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("edgepack") is None:  # a source checkout without `pip install .`
    sys.path.insert(0, str(ROOT / "python"))

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf",
         "DejaVuSansCondensed.ttf", "DejaVuSerif-Bold.ttf")
THRESH = 0.3  # PP-OCR DB postprocess: probability > thresh is a text pixel (rapidocr config Det.thresh)
MEAN, STD, COLOR = [127.5] * 3, [127.5] * 3, "BGR"  # rapidocr config Det: mean/std 0.5 on p/255, BGR order
WORDS = ("edge", "pack", "model", "invoice", "total", "date", "street", "number", "station", "price", "order",
         "delivery", "Berlin", "Paris", "OCR", "text", "detect", "quantize", "engine", "mobile", "camera",
         "receipt", "ticket", "account", "phone", "email", "page", "chapter", "table", "value")


def rapidocr_model(kind: str) -> Path | None:
    """One of rapidocr's PP-OCR .onnx files (kind: det, rec or cls), located without importing rapidocr (which
    pulls cv2 and ORT)."""
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        return None
    for d in spec.submodule_search_locations:
        hits = sorted(Path(d).glob(f"models/*{kind}*.onnx"))
        if hits:
            return hits[0]
    return None


def det_model() -> Path | None:
    """rapidocr's PP-OCRv4 det .onnx."""
    return rapidocr_model("det")


def fonts() -> list[Path]:
    return [FONT_DIR / f for f in FONTS if (FONT_DIR / f).exists()]


def _phrase(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        if kind < 0.55:
            w = rng.choice(WORDS)
            parts.append(w.upper() if rng.random() < 0.2 else w)
        elif kind < 0.85:
            parts.append(str(rng.randint(0, 10 ** rng.randint(1, 6))))
        else:
            parts.append(f"{rng.randint(1, 31):02d}.{rng.randint(1, 12):02d}.{rng.randint(1990, 2030)}")
    return " ".join(parts)


def render(out_dir: Path, n: int, seed: int, size: int = 320) -> list[Path]:
    """n text images (PNG, size x size) in out_dir: 3-7 lines each, random font/size/position/colours."""
    from PIL import Image, ImageDraw, ImageFont

    faces = fonts()
    if not faces:
        raise FileNotFoundError(f"no DejaVu fonts in {FONT_DIR}; apt-get install fonts-dejavu-core")
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        bg = tuple(rng.randint(190, 255) for _ in range(3))
        im = Image.new("RGB", (size, size), bg)
        draw = ImageDraw.Draw(im)
        y = rng.randint(4, 30)
        for _ in range(rng.randint(3, 7)):
            pt = rng.randint(14, 36)
            font = ImageFont.truetype(str(rng.choice(faces)), pt)
            fg = tuple(rng.randint(0, 90) for _ in range(3))
            x = rng.randint(4, size // 3)
            draw.text((x, y), _phrase(rng), font=font, fill=fg)
            y += pt + rng.randint(6, 24)
            if y > size - 20:
                break
        pix = np.asarray(im, np.float32) + nrng.normal(0.0, rng.uniform(2.0, 10.0), (size, size, 3))
        p = out_dir / f"text_{seed}_{i:04d}.png"
        Image.fromarray(np.clip(pix, 0, 255).astype(np.uint8)).save(p)
        paths.append(p)
    return paths


def map_iou(ref: np.ndarray, got: np.ndarray, thresh: float = THRESH) -> float:
    """IoU of the text-pixel masks (prob > thresh) over all samples; two empty masks agree fully."""
    a, b = np.asarray(ref) > thresh, np.asarray(got) > thresh
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def check(model: Path, work: Path, engines: list[str], n_calib: int = 24, n_eval: int = 8, size: int = 320,
          gate: str | None = None, say=print) -> list[dict]:
    """Convert + quantize + verify; one row per engine x precision with map IoU, cosine, max abs."""
    import edgepack
    from edgepack.api import reference_outputs, run_in_onnx_layout
    from edgepack.quantize import BUILDERS, QuantizeOptions
    from edgepack.quantize.calib import load_samples
    from edgepack.runtime.metrics import agreement

    calib_dir, eval_dir = work / "calib", work / "eval"
    render(calib_dir, n_calib, seed=1, size=size)
    render(eval_dir, n_eval, seed=2, size=size)
    spec = {"mean": MEAN, "std": STD, "color": COLOR}
    rows: list[dict] = []
    ref = None
    for eng in engines:
        precisions = ["fp32", "fp16"] + (["int8"] if eng in BUILDERS else [])  # convert() looks up the --to name
        quant = QuantizeOptions(calib=calib_dir, eval=eval_dir, gate=gate, preprocess=spec, calib_limit=n_calib)
        t0 = time.perf_counter()
        res = edgepack.convert(model, to=[eng], precision=precisions, out_dir=work / f"out-{eng}",
                               input_shapes={"x": [1, 3, size, size]}, keep_going=True, force=True,
                               quant=quant if "int8" in precisions else None,
                               progress=lambda s, e=eng: say(f"  [{e}] {s}"))
        seconds = time.perf_counter() - t0
        feeds = load_samples(eval_dir, res.inputs, spec, None, "evaluation")
        if ref is None:
            ref = np.stack([o[res.outputs[0].name] for o in reference_outputs(res.prepared, feeds)])
        for r in res.results:
            row = {"engine": eng, "precision": r.precision, "convert_s": round(seconds, 1), "error": r.error}
            if r.artifact is not None:
                got = np.stack([o[res.outputs[0].name] for o in run_in_onnx_layout(r.artifact, feeds)])
                a = agreement(ref, got)
                row.update(iou=map_iou(ref, got), cosine=a.cosine, max_abs=a.max_abs,
                           text_share=float((ref > THRESH).mean()))
                if r.quant:
                    row["float_layers"] = len(r.quant.get("float_layers", []))
                    row["int8_layers"] = len(r.quant.get("int8_layers", []))
            rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    lines = [f"{'engine':8} {'precision':9} {'IoU@0.3':>8} {'cosine':>9} {'max abs':>8}  note"]
    for r in rows:
        if "iou" not in r:
            lines.append(f"{r['engine']:8} {r['precision']:9} {'-':>8} {'-':>9} {'-':>8}  {r.get('error')}")
            continue
        note = (f"{r['int8_layers']} int8 / {r['float_layers']} float layers" if "int8_layers" in r else "")
        lines.append(f"{r['engine']:8} {r['precision']:9} {r['iou']:8.4f} {r['cosine']:9.5f} {r['max_abs']:8.4f}  "
                     f"{note}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calib", type=int, default=24, help="calibration images [24]")
    ap.add_argument("--eval", type=int, default=8, help="held-out images [8]")
    ap.add_argument("--size", type=int, default=320, help="input height = width [320]")
    ap.add_argument("--to", default="ncnn,mnn,tflite,openvino", help="engines [ncnn,mnn,tflite,openvino]")
    ap.add_argument("--gate", default=None, help='int8 accuracy gate, e.g. "cosine>=0.98" [none]')
    ap.add_argument("--keep", default=None, help="keep images and artifacts in this directory")
    ap.add_argument("--json", default=None, help="write the rows as JSON here")
    args = ap.parse_args(argv)
    model = det_model()
    if model is None:
        print("rapidocr-onnxruntime is not installed (pip install rapidocr-onnxruntime)", file=sys.stderr)
        return 2
    if not fonts():
        print(f"no DejaVu fonts in {FONT_DIR} (apt-get install fonts-dejavu-core)", file=sys.stderr)
        return 2
    engines = [e.strip() for e in args.to.split(",") if e.strip()]
    with tempfile.TemporaryDirectory(prefix="edgepack-ppocr-") as tmp:
        work = Path(args.keep) if args.keep else Path(tmp)
        print(f"model: {model} ({model.stat().st_size / 1e6:.1f} MB), input x: 1x3x{args.size}x{args.size}, "
              f"{args.calib} calibration + {args.eval} held-out images")
        rows = check(model, work, engines, args.calib, args.eval, args.size, args.gate)
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
