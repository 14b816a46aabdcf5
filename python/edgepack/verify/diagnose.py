"""Per-layer diagnosis for ncnn: run the fp32 and the int8 model on the same input, read every blob the
two graphs share (the int8 model keeps the fp32 blob names), and report per-layer agreement in graph order
and the first layer whose output falls below the threshold."""

from __future__ import annotations

import numpy as np

from edgepack.formats.ncnn import read_param
from edgepack.quantize.ncnn import extract_blobs
from edgepack.runtime._isolate import call_isolated
from edgepack.runtime.artifact import Artifact
from edgepack.runtime.metrics import agreement

DIVERGENCE_COSINE = 0.99


def first_divergence(fp32: Artifact, int8: Artifact, feeds: list[dict[str, np.ndarray]],
                     threshold: float = DIVERGENCE_COSINE) -> dict:
    p32, p8 = read_param(fp32.path("param")), read_param(int8.path("param"))
    int8_layers = {ly.name for ly in p8.layers if ly.get(8, 0)}
    shared = {b for ly in p8.layers for b in ly.tops}
    order = [(ly, t) for ly in p32.layers if ly.type != "Input" for t in ly.tops if t in shared]
    blobs = list(dict.fromkeys(t for _, t in order))
    ref = call_isolated(extract_blobs, fp32, feeds, blobs, what="ncnn fp32 (blobs)")
    got = call_isolated(extract_blobs, int8, feeds, blobs, what="ncnn int8 (blobs)")
    layers, first = [], None
    for ly, blob in order:
        a = agreement(np.concatenate([r[blob].ravel() for r in ref]), np.concatenate([g[blob].ravel() for g in got]))
        row = {"layer": ly.name, "type": ly.type, "blob": blob, "int8": ly.name in int8_layers,
               "cosine": a.cosine, "max_abs": a.max_abs}
        layers.append(row)
        if first is None and not (np.isfinite(a.cosine) and a.cosine >= threshold):
            first = row
    return {"threshold": threshold, "first_divergent": first, "layers": layers, "samples": len(feeds)}
