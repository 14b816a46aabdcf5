"""Check that MediaPipe Tasks' ImageClassifier runs the demo model as edgepack writes it for LiteRT.

mediapipe pins its own dependency versions, so it never enters edgepack's environment: this script builds a
throwaway venv (default ~/.cache/edgepack-tests/mediapipe-venv, kept out of $TMPDIR; `pip install
mediapipe`), converts the bundled digits model with `--litert-io-layout nhwc` and the demo's metadata
(normalization + labels), then classifies every
held-out digit twice: with MediaPipe's ImageClassifier (in that venv, from the raw uint8 image, using only
the metadata to normalise) and with edgepack's LiteRT engine (edgepack's own preprocessing). It prints the
top-1 agreement and exits 1 unless every top-1 matches.

    python tools/check_mediapipe.py [--venv DIR] [--limit N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("edgepack") is None:  # a source checkout without `pip install .`
    sys.path.insert(0, str(ROOT / "python"))

CLASSIFY = r"""
import json, sys
import numpy as np
import mediapipe as mp
from mediapipe.tasks import python as tasks
from mediapipe.tasks.python import vision

model, images = sys.argv[1], np.load(sys.argv[2])["images"]
opts = vision.ImageClassifierOptions(base_options=tasks.BaseOptions(model_asset_path=model), max_results=1)
with vision.ImageClassifier.create_from_options(opts) as clf:
    out = []
    for img in images:
        r = clf.classify(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(img)))
        c = r.classifications[0].categories[0]
        out.append({"index": c.index, "label": c.category_name, "score": c.score})
print(json.dumps({"mediapipe": mp.__version__, "results": out}))
"""


def ensure_venv(path: Path) -> Path:
    py = path / "bin" / "python"
    if not py.exists():
        print(f"building {path} (pip install mediapipe) ...", flush=True)
        venv.create(path, with_pip=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "mediapipe"], check=True)
    return py


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venv", default=os.path.expanduser("~/.cache/edgepack-tests/mediapipe-venv"))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--keep", default=None, help="keep the converted model in this directory")
    args = ap.parse_args()

    import edgepack
    from edgepack.demo import load_demo, preprocess
    from edgepack.runtime.engines import get_engine

    py = ensure_venv(Path(args.venv))
    data = load_demo()
    images, labels = data.images[: args.limit], data.labels[: args.limit]
    with tempfile.TemporaryDirectory(prefix="edgepack-mp-") as tmp:
        out = Path(args.keep) if args.keep else Path(tmp) / "digits"
        res = edgepack.convert(data.model, to="tflite", precision="fp32", out_dir=out, force=True,
                               converter_options={"tflite": {"io_layout": "nhwc", "metadata": data.spec}})
        art = res.artifact("tflite", "fp32")
        x = preprocess(images, data.spec["mean"], data.spec["std"]).transpose(0, 2, 3, 1)  # NHWC for this model
        with get_engine("litert").load(art) as eng:
            ours = np.array([eng.run({data.spec["input"]: x[i:i + 1]})[data.spec["output"]].argmax()
                             for i in range(len(x))])
        npz = Path(tmp) / "images.npz"
        np.savez(npz, images=images)
        proc = subprocess.run([str(py), "-c", CLASSIFY, str(art.path("model")), str(npz)], capture_output=True,
                              text=True)
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            print("MediaPipe failed to run the model")
            return 1
        doc = json.loads(proc.stdout.strip().splitlines()[-1])
    mp_top1 = np.array([r["index"] for r in doc["results"]])
    names_ok = all(r["label"] == data.spec["labels"][r["index"]] for r in doc["results"])
    agree = float(np.mean(mp_top1 == ours))
    print(f"mediapipe {doc['mediapipe']}: ImageClassifier on {len(images)} held-out digits")
    print(f"  top-1 = edgepack LiteRT: {agree:.2%}   MediaPipe accuracy {np.mean(mp_top1 == labels):.2%}   "
          f"edgepack accuracy {np.mean(ours == labels):.2%}   labels from metadata: {'yes' if names_ok else 'NO'}")
    return 0 if agree == 1.0 and names_ok else 1


if __name__ == "__main__":
    sys.exit(main())
