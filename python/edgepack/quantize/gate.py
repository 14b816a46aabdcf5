"""The accuracy gate: `top1>=0.99` (top-1 agreement with ONNX Runtime fp32 on held-out samples) or
`cosine>=0.999` (worst output's cosine similarity over held-out samples). When the full int8 model fails,
layers are ranked by the error they add (int8 vs fp32 on the same inputs) and kept in float one at a time,
most sensitive first, until the gate passes. If nothing passes, GateError carries the best result reached
and the int8 directory is removed."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from edgepack.errors import Error, InputError
from edgepack.runtime.artifact import Artifact
from edgepack.verify.parity import run_artifact_isolated

_GATE = re.compile(r"^\s*(top1|cosine)\s*>=\s*([0-9]*\.?[0-9]+)\s*$")
Feeds = list[dict[str, np.ndarray]]


class GateError(Error):
    """The int8 model missed the accuracy gate even with layers kept in float."""


class Int8Builder(Protocol):
    engine: str
    layers: list[str]

    def build(self, out_dir: Path, skip: set[str]) -> Artifact: ...

    def layer_errors(self, int8: Artifact, feeds: Feeds) -> dict[str, float]: ...


@dataclass(frozen=True)
class Gate:
    metric: str
    threshold: float

    @classmethod
    def parse(cls, text: str) -> Gate:
        m = _GATE.match(text or "")
        if not m:
            raise InputError(f"bad --gate '{text}'; write it as \"top1>=0.99\" or \"cosine>=0.999\"")
        return cls(m.group(1), float(m.group(2)))

    def passes(self, metrics: dict[str, float]) -> bool:
        v = metrics.get(self.metric, float("nan"))
        return bool(np.isfinite(v) and v >= self.threshold)

    def __str__(self) -> str:
        return f"{self.metric}>={self.threshold:g}"


def metrics(reference: Feeds, got: Feeds) -> dict[str, float]:
    """top1: share of (sample, output row) argmaxes over the last axis that agree; cosine: worst output."""
    from edgepack.runtime.metrics import agreement

    agree, total, cos = 0, 0, 1.0
    for name in reference[0]:
        r = np.stack([np.asarray(s[name], np.float64) for s in reference])
        g = np.stack([np.asarray(s[name], np.float64) for s in got])
        c = agreement(r, g).cosine
        cos = min(cos, c) if np.isfinite(c) else float("nan")
        if r.shape[-1] > 1:
            agree += int(np.sum(r.argmax(-1) == g.argmax(-1)))
            total += r[..., 0].size
    return {"top1": agree / total if total else float("nan"), "cosine": cos}


@dataclass
class GateResult:
    artifact: Artifact
    metrics: dict[str, float]
    float_layers: list[str] = field(default_factory=list)
    int8_layers: list[str] = field(default_factory=list)
    tried: int = 1
    method: str = ""

    def to_dict(self) -> dict:
        return {"method": self.method, "metrics": self.metrics, "float_layers": self.float_layers,
                "int8_layers": self.int8_layers, "builds": self.tried}


def search(builder: Int8Builder, out_dir: Path, eval_feeds: Feeds, reference: Feeds, gate: Gate | None,
           say: Callable[[str], None] = lambda s: None, max_float: int | None = None) -> GateResult:
    """Build the int8 artifact in out_dir; with a gate, keep the most sensitive layers in float until it
    passes. On failure out_dir is removed and GateError names the best result."""

    def attempt(skip: set[str]) -> tuple[Artifact, dict[str, float]]:
        art = builder.build(out_dir, skip)
        return art, metrics(reference, run_artifact_isolated(art, eval_feeds))

    try:
        art, m = attempt(set())
        method = getattr(builder, "method", "")
        pinned = list(getattr(builder, "pinned_float", []))  # kept in float by the builder, before any gate
        result = GateResult(art, m, pinned, list(builder.layers), method=method)
        if gate is None or gate.passes(m):
            return result
        errs = builder.layer_errors(art, eval_feeds[:16])
        order = sorted(errs, key=lambda n: -errs[n])
        best = (m, [])
        skip: list[str] = []
        # keeping every layer in float is not int8 any more: stop one short of that
        limit = len(order) - 1 if max_float is None else min(max_float, len(order) - 1)
        for name in order[:limit]:
            skip.append(name)
            say(f"gate {gate}: {gate.metric}={m[gate.metric]:.4f}; keeping {name} in float")
            art, m = attempt(set(skip))
            if _better(m, best[0], gate):
                best = (m, list(skip))
            if gate.passes(m):
                return GateResult(art, m, pinned + skip, [n for n in builder.layers if n not in skip],
                                  len(skip) + 1, method)
        raise GateError(f"{builder.engine} int8 misses the gate {gate}: best {gate.metric}={best[0][gate.metric]:.4f} "
                        f"with {len(best[1])} of {len(builder.layers)} layers kept in float "
                        f"({', '.join(best[1][:6]) or 'none'}{'...' if len(best[1]) > 6 else ''}); relax the gate, "
                        "add calibration data, or use fp16")
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise


def _better(a: dict[str, float], b: dict[str, float], gate: Gate) -> bool:
    va, vb = a.get(gate.metric, float("nan")), b.get(gate.metric, float("nan"))
    return bool(np.isfinite(va) and (not np.isfinite(vb) or va > vb))
