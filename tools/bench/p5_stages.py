"""Where load() spends its time (P5), stage by stage, beside the raw engine: main-thread CPU time (ms) of each
step of `edgepack.load(bundle)` + the first `Session.run(image)`, and of loading the extracted artifact with its
engine + its first run, medians over fresh processes. Main-thread CPU is what the wall time is on an idle
device (the sha256 of weight files runs in a thread beside the engine); on a shared, oversubscribed machine it
is also the number that does not drift with the load. The ratio line is session / raw.

    PYTHONPATH=python python tools/bench/p5_stages.py [--bundle B.edgepack] [--engine ncnn] [--repeats 9]

Without --bundle it packs the MobileNetV2-shaped classifier of p2_p5_session.py (ncnn + MNN, fp32). With an
older edgepack first on the path (e.g. `git archive main python | tar -x -C /tmp/base` plus a built _core), the
same script measures that baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _child(bundle: str, engine: str, side: str, art_json: str, feeds_npz: str) -> dict[str, float]:
    from edgepack.runtime import engines, kernels
    from edgepack.runtime.artifact import Artifact
    from edgepack.runtime.bench.overhead import _import_engine_package, camera_image
    from edgepack.runtime.bundle.choose import choose
    from edgepack.runtime.bundle.reader import Bundle
    from edgepack.runtime.pipeline import post, pre  # noqa: F401 - imports are not load work

    kernels.active_isa()  # the C++ core is imported before the clock, as the engine's package
    cls = engines.get_engine(engine)
    _import_engine_package(engine)
    tt, marks = time.thread_time, {}

    def stage(name, fn):
        t = tt()
        out = fn()
        marks[name] = (tt() - t) * 1000
        return out

    if side == "raw":
        d = json.loads(art_json)
        art = Artifact.from_dict(d["artifact"], d["directory"])
        with np.load(feeds_npz) as f:
            feeds = {k: f[k] for k in f.files}
        eng = stage("engine load", lambda: cls.load(art, threads=1))
        stage("first run", lambda: eng.run(feeds))
        return marks
    img = camera_image(640, 480)
    b = stage("Bundle() (zip, manifest, schema)", lambda: Bundle(bundle))
    c = stage("choose", lambda: choose(b.manifest, engine, "auto", 1))
    # an edgepack before Engine.memory_roles (the baseline) extracts every file
    extra = (cls.memory_roles(),) if hasattr(cls, "memory_roles") else ()
    art, check = stage("files: memory/extract + structure sha256",
                       lambda: b.artifact_deferred(c.engine, c.precision, *extra))
    eng = stage("engine load", lambda: cls.load(art, threads=1))
    stage("wait for the weights' sha256", lambda: (getattr(art, "memory", {}).clear(), check.wait(), b.close_archive()))
    spec = b.manifest.preprocess
    shape = {t.name: t for t in eng.inputs}[spec.input]
    x = stage("preprocess 640x480", lambda: pre.Preprocessor(spec, shape.shape, shape.dtype)(img))
    stage("first run", lambda: eng.run({spec.input: x.tensor}))
    return marks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", default=None)
    ap.add_argument("--engine", default="ncnn")
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(*args.child)))
        return

    from edgepack.runtime.bench.overhead import camera_image
    from edgepack.runtime.bundle.reader import Bundle
    from edgepack.runtime.session import Session

    with tempfile.TemporaryDirectory(prefix="p5stages-") as tmp:
        bundle = args.bundle
        if bundle is None:
            sys.path.insert(0, str(Path(__file__).parent))
            from p2_p5_session import mobilenet_v2

            from edgepack.pack import PackOptions, pack

            bundle = str(Path(tmp) / "mobilenet_v2.edgepack")
            opts = PackOptions(task="classify", mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
            pack(mobilenet_v2(Path(tmp) / "m.onnx"), bundle, opts, to="ncnn,mnn", precision="fp32", bench_runs=0)
        with Session(bundle, engine=args.engine, threads=1) as s:
            key = s.choice.key
            feeds = {s._pre.spec.input: s._pre(camera_image(640, 480)).tensor}
        np.savez(Path(tmp) / "feeds.npz", **feeds)
        with Bundle(bundle) as b:
            art = b.artifact(*key.split("-", 1))  # extracted and checked: what the raw side loads
            art_json = json.dumps({"artifact": art.to_dict(), "directory": art.directory})
            rows: dict[str, list[dict[str, float]]] = {"raw": [], "session": []}
            for _ in range(args.repeats):
                for side in ("raw", "session"):  # alternating, so that drift affects both alike
                    r = subprocess.run([sys.executable, __file__, "--child", bundle, args.engine, side, art_json,
                                        str(Path(tmp) / "feeds.npz")], capture_output=True, text=True,
                                       env=dict(os.environ), check=True)
                    rows[side].append(json.loads(r.stdout.strip().splitlines()[-1]))
        print(f"{key}: main-thread CPU ms, median of {args.repeats} fresh processes per side")
        totals = {}
        for side, samples in rows.items():
            print(f"  {side}:")
            for name in samples[0]:
                print(f"    {name:42s} {statistics.median(s[name] for s in samples):8.2f}")
            totals[side] = statistics.median(sum(s.values()) for s in samples)
            print(f"    {'total':42s} {totals[side]:8.2f}")
        print(f"P5 (main-thread CPU): {totals['session'] / totals['raw']:.2f}")


if __name__ == "__main__":
    main()
