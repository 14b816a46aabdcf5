"""PP-OCRv4 text recognition (rapidocr-onnxruntime's rec model) through every engine and precision, on rendered
words: does each artifact read the same text as ONNX Runtime?

The recogniser is the `*rec*.onnx` the `rapidocr-onnxruntime` wheel carries (found in its package directory;
the package is never imported). Input: a 48x320 text line, BGR, x = (p/255 - 0.5)/0.5 (rapidocr's config.yaml,
Rec); output: per time step the probabilities of 6625 classes, CTC-decoded greedily (class 0 is the blank,
repeats merge; the characters are the model's own `character` metadata, plus the space rapidocr appends).
Lines of 1-4 words and numbers are rendered with Pillow and the DejaVu fonts at exactly 48x320 (so
preprocessing never resizes), from a fixed seed: one set calibrates int8, another (other seed) is held out.

Printed per engine x precision: exact-match rate of the decoded text against ONNX Runtime fp32 on the held-out
lines, the mean character error rate against it, the exact-match accuracy against the rendered truth (ONNX
Runtime's too, the model's own ceiling on these lines), and the graph form the converter was fed.

    python tools/ppocr_rec_check.py [--calib N] [--eval N] [--to ncnn,mnn,tflite,openvino] [--gate "top1>=0.98"]
                                    [--precision fp32,fp16,int8] [--json FILE]
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

import ppocr_det_check as det  # noqa: E402  (same folder: fonts)

H, W = 48, 320
MEAN, STD, COLOR = [127.5] * 3, [127.5] * 3, "BGR"
WORDS = ("edge", "model", "board", "camera", "phone", "engine", "Raspberry", "Jetson", "int8", "float", "Layer",
         "Tensor", "OCR", "text", "line", "Packing", "Verify", "bench", "quick", "brown", "fox", "jumps", "lazy",
         "dog", "Hello", "World", "street", "market", "price", "total", "station", "north", "river", "open")


def rec_model() -> Path | None:
    return det.rapidocr_model("rec")


def characters(model: Path) -> list[str]:
    """The model's classes after the blank: its `character` metadata, then the space (use_space_char)."""
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(model), load_external_data=False).metadata_props}
    if "character" not in meta:
        raise ValueError(f"{model.name} has no 'character' metadata; this is not a PP-OCR rec export")
    return meta["character"].splitlines() + [" "]


def ctc_decode(probs: np.ndarray, chars: list[str]) -> str:
    """Greedy CTC: best class per time step, repeats merged, blanks (0) dropped; the spaces the model reads in
    the empty margins are stripped."""
    best = probs.reshape(-1, probs.shape[-1]).argmax(-1)
    out, prev = [], -1
    for k in best:
        if k != prev and k != 0 and k - 1 < len(chars):
            out.append(chars[k - 1])
        prev = k
    return "".join(out).strip()


def _line(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        parts.append(str(rng.randint(0, 9999)) if rng.random() < 0.25 else rng.choice(WORDS))
    return " ".join(parts)


def render(out_dir: Path, n: int, seed: int) -> list[tuple[Path, str]]:
    """n text lines (PNG, 48x320) in out_dir, each with the text drawn on it; the text fits the line."""
    from PIL import Image, ImageDraw, ImageFont

    faces = det.fonts()
    if not faces:
        raise FileNotFoundError(f"no DejaVu fonts in {det.FONT_DIR}; apt-get install fonts-dejavu-core")
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = []
    while len(out) < n:
        text = _line(rng)
        font = ImageFont.truetype(str(rng.choice(faces)), rng.randint(24, 34))
        x0, y0 = rng.randint(2, 16), rng.randint(0, 6)
        left, top, right, bottom = font.getbbox(text)
        if x0 + right > W - 4 or y0 + bottom > H - 2:
            continue  # does not fit: draw another line
        im = Image.new("RGB", (W, H), tuple(rng.randint(190, 255) for _ in range(3)))
        ImageDraw.Draw(im).text((x0, y0), text, font=font, fill=tuple(rng.randint(0, 90) for _ in range(3)))
        pix = np.asarray(im, np.float32) + nrng.normal(0.0, rng.uniform(2.0, 6.0), (H, W, 3))
        p = out_dir / f"word_{seed}_{len(out):04d}.png"
        Image.fromarray(np.clip(pix, 0, 255).astype(np.uint8)).save(p)
        out.append((p, text))
    return out


def cer(got: str, want: str) -> float:
    """Character error rate: Levenshtein distance / len(want)."""
    prev = list(range(len(want) + 1))
    for i, a in enumerate(got, 1):
        cur = [i]
        for j, b in enumerate(want, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a != b)))
        prev = cur
    return prev[-1] / max(1, len(want))


def check(model: Path, work: Path, engines: list[str], n_calib: int = 48, n_eval: int = 64,
          say=print, gate: str | None = None, precisions: tuple[str, ...] = ("fp32", "fp16", "int8")) -> list[dict]:
    import edgepack
    from edgepack.api import reference_outputs, run_in_onnx_layout
    from edgepack.quantize import BUILDERS, QuantizeOptions
    from edgepack.quantize.calib import load_samples

    chars = characters(model)
    calib_dir, eval_dir = work / "calib", work / "eval"
    render(calib_dir, n_calib, seed=1)
    truth = [t for _, t in render(eval_dir, n_eval, seed=2)]
    spec = {"mean": MEAN, "std": STD, "color": COLOR}
    rows: list[dict] = []
    ref = None
    for eng in engines:
        wanted = [p for p in precisions if p != "int8" or eng in BUILDERS]
        quant = QuantizeOptions(calib=calib_dir, eval=eval_dir, preprocess=spec, calib_limit=n_calib, gate=gate)
        res = edgepack.convert(model, to=[eng], precision=wanted, out_dir=work / f"out-{eng}",
                               input_shapes={"x": [1, 3, H, W]}, keep_going=True, force=True,
                               quant=quant if "int8" in wanted else None,
                               progress=lambda s, e=eng: say(f"  [{e}] {s}"))
        feeds = load_samples(eval_dir, res.inputs, spec, None, "evaluation")
        name = res.outputs[0].name
        if ref is None:
            ref = [ctc_decode(o[name], chars) for o in reference_outputs(res.prepared, feeds)]
            rows.append({"engine": "onnxruntime", "precision": "fp32", "exact": 1.0, "cer": 0.0,
                         "accuracy": float(np.mean([a == b for a, b in zip(ref, truth)]))})
        for r in res.results:
            row = {"engine": eng, "precision": r.precision, "error": r.error,
                   "form": getattr(r, "form", None)}
            if r.artifact is not None:
                got = [ctc_decode(o[name], chars) for o in run_in_onnx_layout(r.artifact, feeds)]
                row.update(exact=float(np.mean([a == b for a, b in zip(got, ref)])),
                           cer=float(np.mean([cer(a, b) for a, b in zip(got, ref)])),
                           accuracy=float(np.mean([a == b for a, b in zip(got, truth)])),
                           misread=[[b, a] for a, b in zip(got, ref) if a != b][:3])
            rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    lines = [f"{'engine':12} {'precision':9} {'exact vs ORT':>12} {'CER vs ORT':>10} {'accuracy':>9}  form"]
    for r in rows:
        if "exact" not in r:
            lines.append(f"{r['engine']:12} {r['precision']:9} {'-':>12} {'-':>10} {'-':>9}  {r.get('error')}")
            continue
        lines.append(f"{r['engine']:12} {r['precision']:9} {r['exact']:12.4f} {r['cer']:10.4f} {r['accuracy']:9.4f}"
                     f"  {r.get('form') or ''}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calib", type=int, default=48, help="calibration lines [48]")
    ap.add_argument("--eval", type=int, default=64, help="held-out lines [64]")
    ap.add_argument("--to", default="ncnn,mnn,tflite,openvino", help="engines [ncnn,mnn,tflite,openvino]")
    ap.add_argument("--precision", default="fp32,fp16,int8", help="precisions [fp32,fp16,int8]")
    ap.add_argument("--gate", default=None, help='int8 accuracy gate, e.g. "top1>=0.98" (per time step); none: '
                                                 "the all-int8 model")
    ap.add_argument("--json", default=None, help="write the rows as JSON here")
    args = ap.parse_args(argv)
    model = rec_model()
    if model is None:
        print("rapidocr-onnxruntime is not installed (pip install rapidocr-onnxruntime)", file=sys.stderr)
        return 2
    if not det.fonts():
        print(f"no DejaVu fonts in {det.FONT_DIR} (apt-get install fonts-dejavu-core)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="edgepack-ppocr-rec-") as tmp:
        print(f"model: {model.name}, input x: 1x3x{H}x{W}, {args.calib} calibration + {args.eval} held-out lines")
        rows = check(model, Path(tmp), [e.strip() for e in args.to.split(",") if e.strip()], args.calib, args.eval,
                     gate=args.gate, precisions=tuple(p.strip() for p in args.precision.split(",") if p.strip()))
    print(table(rows))
    for r in rows:
        if r.get("misread"):
            print(f"{r['engine']} {r['precision']} misreads (ORT -> engine): {r['misread']}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
