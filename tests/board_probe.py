"""Runs INSIDE the emulated arm64 root (tests/test_board_emulated.py): loads a bundle on each engine through
edgepack.load and prints one JSON line with what every input kind gave. Kept to the runtime's public API.

    python board_probe.py BUNDLE IMAGE.png IMAGE.npy FRAME.nv21 WIDTH HEIGHT ENGINE[,ENGINE...]
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

MARK = "BOARD_PROBE_JSON "


def main() -> None:
    bundle, png, npy, nv21, w, h, engines = sys.argv[1:8]
    t0 = time.perf_counter()
    import edgepack
    from edgepack import kernels

    out = {"import_s": time.perf_counter() - t0, "isa": kernels.active_isa(), "isas": kernels.available_isas(),
           "vulkan": kernels.vulkan_info(), "engines": {}}
    image = np.load(npy)
    frame = edgepack.Frame(open(nv21, "rb").read(), int(w), int(h), "NV21")
    for engine in engines.split(","):
        t = time.perf_counter()
        with edgepack.load(bundle, engine=engine, precision="fp32", threads=1) as s:
            load_s = time.perf_counter() - t
            res = {"load_s": load_s, "engine": s.engine, "precision": s.precision}
            for kind, x in (("array", image), ("png", png), ("nv21", frame)):
                r = s.run(x)
                res[kind] = {"class_ids": [int(c) for c in r.class_ids], "scores": [float(v) for v in r.scores]}
            raw = s.run(image, raw=True)
            res["raw"] = {k: np.asarray(v, np.float64).ravel().tolist() for k, v in raw.items()}
        out["engines"][engine] = res
    print(MARK + json.dumps(out))  # engines print to stdout too (MNN at exit): the marker finds this line


if __name__ == "__main__":
    main()
