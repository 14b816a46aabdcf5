"""Run an artifact on inputs in an isolated child process and compare with the reference outputs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgepack.runtime._isolate import call_isolated
from edgepack.runtime.artifact import Artifact
from edgepack.runtime.metrics import Agreement, agreement, passes, worst


def run_artifact(artifact: Artifact, feeds: list[dict[str, np.ndarray]], threads: int = 1,
                 device: str = "cpu") -> list[dict[str, np.ndarray]]:
    """Load the artifact with its engine and run every feed. Meant to run inside call_isolated."""
    from edgepack.runtime.engines import get_engine

    eng = get_engine(artifact.engine).load(artifact, threads=threads, device=device)
    try:
        return [eng.run(f) for f in feeds]
    finally:
        eng.close()


def run_artifact_isolated(artifact: Artifact, feeds: list[dict[str, np.ndarray]], threads: int = 1,
                          device: str = "cpu") -> list[dict[str, np.ndarray]]:
    return call_isolated(run_artifact, artifact, feeds, threads, device,
                         what=f"{artifact.engine} ({artifact.precision})")


@dataclass
class Parity:
    per_output: dict[str, Agreement] = field(default_factory=dict)
    overall: Agreement | None = None
    passed: bool = False
    note: str = ""  # why it passed when the tolerance alone would fail it (api._fp32_not_stricter_than_fp16)

    def to_dict(self) -> dict:
        d = {"passed": self.passed, "overall": self.overall.to_dict() if self.overall else None,
             "outputs": {k: v.to_dict() for k, v in self.per_output.items()}}
        if self.note:
            d["note"] = self.note
        return d


def compare(reference: list[dict[str, np.ndarray]], got: list[dict[str, np.ndarray]], precision: str) -> Parity:
    """Agreement per output name over all samples (concatenated), the worst output, and pass/fail (every
    output must pass on its own: each has its own scale)."""
    per = {}
    for name in reference[0]:
        r = np.concatenate([np.asarray(s[name], dtype=np.float64).ravel() for s in reference])
        g = np.concatenate([np.asarray(s[name], dtype=np.float64).ravel() for s in got])
        per[name] = agreement(r, g, precision)
    overall = worst(per)
    return Parity(per, overall, all(passes(a, precision) for a in per.values()))
