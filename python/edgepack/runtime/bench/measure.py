"""Measure one artifact x threads: load time, first run, latency percentiles, throughput, peak RSS increase.
Runs in a fresh child process (call_isolated): a crash cannot take edgepack down, and the RSS numbers are
the artifact's own rather than whatever the parent process has accumulated."""

from __future__ import annotations

import importlib
import resource
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from edgepack.runtime._isolate import call_isolated
from edgepack.runtime.artifact import Artifact


@dataclass
class BenchResult:
    engine: str
    precision: str
    device_kind: str
    threads: int
    runs: int
    load_ms: float
    first_run_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    throughput_per_s: float
    peak_rss_mb: float | None
    size_bytes: int
    session_overhead: float | None = None  # P2: Session.run / engine run on the same image
    load_overhead: float | None = None     # P5: load() + first run / engine load + first run
    device: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.engine}-{self.precision}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> BenchResult:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    a = np.asarray(samples_ms, dtype=np.float64)
    return {"p50_ms": float(np.percentile(a, 50)), "p90_ms": float(np.percentile(a, 90)),
            "p99_ms": float(np.percentile(a, 99)), "throughput_per_s": float(1000.0 / a.mean())}


def _status_kb(field_name: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> float | None:
    """Reset the kernel's high-water mark (Linux: write 5 to clear_refs) and return the RSS now in KB."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _status_kb("VmRSS")
    except OSError:
        return None


def measure(artifact: Artifact, feeds: dict[str, np.ndarray], threads: int, runs: int, warmup: int = 3,
            device_kind: str = "cpu") -> dict:
    """Load + time the artifact in this process. Meant to run inside call_isolated."""
    from edgepack.runtime._quiet import quiet_stdout
    from edgepack.runtime.engines import get_engine, provider

    cls = get_engine(artifact.engine)
    with quiet_stdout():  # import the engine's package before the baseline: its import is not the model's cost
        importlib.import_module(provider(artifact.engine) or artifact.engine)
    base_kb = _reset_peak_rss()
    base_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    eng = cls.load(artifact, threads=threads, device=device_kind)
    t1 = time.perf_counter()
    eng.run(feeds)
    t2 = time.perf_counter()
    try:
        for _ in range(warmup):
            eng.run(feeds)
        samples = []
        for _ in range(runs):
            s = time.perf_counter()
            eng.run(feeds)
            samples.append((time.perf_counter() - s) * 1000.0)
    finally:
        eng.close()
    hwm = _status_kb("VmHWM")
    if base_kb is not None and hwm is not None:
        peak = max(0.0, hwm - base_kb) / 1024.0
    else:  # no clear_refs: the growth of the lifetime maximum (0 if an earlier peak was higher)
        peak = max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_max) / 1024.0
    return {"load_ms": (t1 - t0) * 1000.0, "first_run_ms": (t2 - t1) * 1000.0, **percentiles(samples),
            "peak_rss_mb": peak}


def bench_artifact(artifact: Artifact, feeds: dict[str, np.ndarray], threads: int = 1, runs: int = 30,
                   warmup: int = 3, device_kind: str = "cpu") -> BenchResult:
    """Measure `artifact` in a child process; returns a BenchResult with this machine's device descriptor."""
    from edgepack.runtime.bench.device import describe_device

    r = call_isolated(measure, artifact, feeds, threads, runs, warmup, device_kind,
                      what=f"bench {artifact.engine} ({artifact.precision})")
    return BenchResult(artifact.engine, artifact.precision, device_kind, threads, runs, size_bytes=artifact.size_bytes,
                       device=describe_device(), **r)
