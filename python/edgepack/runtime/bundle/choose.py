"""Which artifact `edgepack.load(engine="auto", precision="auto")` runs, and why.

Rule (docs/bundle.md):
1. Candidates: the bundle's artifacts that passed verification against ONNX Runtime (an explicit
   engine+precision may name a failing one), restricted to the requested engine / precision, whose
   engine is installed here.
2. If the bundle holds benchmarks from this device class (OS, architecture, ISA features; the same CPU
   model is preferred over the class), take the candidate with the lowest measured p50 latency, at the
   thread count closest to the requested one. A Vulkan measurement counts only if it beats every CPU one
   and a Vulkan device exists here.
3. Otherwise the default order for this architecture (DEFAULT_ORDER below); int8 comes last because
   its accuracy cost should be a measured choice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from edgepack.errors import BundleError, EngineUnavailableError
from edgepack.runtime.bench.device import device_identity
from edgepack.runtime.bundle.manifest import Manifest
from edgepack.runtime.engines import ENGINES, provider
from edgepack.runtime.limits import check_threads

# ARM: fp16 arithmetic is native on ARMv8.2 cores and ncnn's ARM kernels are its most tuned. OpenVINO comes
# last there: it has not been measured on an ARM board (emulation says nothing about speed).
# x86: fp16 is storage only (converted back to fp32 to compute), so fp32 first. OpenVINO fp32 first: on this
# machine (Xeon, AVX-512) it took half of ncnn fp32's time on PP-OCRv4 det and 0.6-0.8x on the zoo's ResNet
# blocks (tools/bench/openvino_engines.py, README engine notes); OpenVINO fp16 last, its f16 weights cost time
# on x86 (47 vs 26 ms on PP-OCRv4 det, one thread).
DEFAULT_ORDER: dict[str, list[str]] = {
    "aarch64": ["ncnn-fp16", "mnn-fp16", "ncnn-fp32", "mnn-fp32", "litert-fp16", "litert-fp32", "openvino-fp16",
                "openvino-fp32"],
    "arm": ["ncnn-fp16", "ncnn-fp32", "mnn-fp16", "mnn-fp32", "litert-fp32", "litert-fp16"],
    "x86_64": ["openvino-fp32", "ncnn-fp32", "mnn-fp32", "litert-fp32", "ncnn-fp16", "mnn-fp16", "litert-fp16",
               "openvino-fp16"],
}


def default_order(machine: str) -> list[str]:
    if machine.startswith("arm") and machine != "arm64":
        return DEFAULT_ORDER["arm"]
    return DEFAULT_ORDER.get(machine, DEFAULT_ORDER["x86_64"])


def default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class Candidate:
    engine: str
    precision: str
    usable: bool
    note: str
    p50_ms: float | None = None
    device_kind: str = "cpu"

    @property
    def key(self) -> str:
        return f"{self.engine}-{self.precision}"


@dataclass
class Choice:
    engine: str
    precision: str
    device_kind: str
    threads: int
    reason: str
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.engine}-{self.precision}"

    def explain(self) -> str:
        lines = [f"chosen: {self.key} on {self.device_kind}, {self.threads} thread(s): {self.reason}"]
        for c in self.candidates:
            lat = f", p50 {c.p50_ms:.3f} ms" if c.p50_ms is not None else ""
            lines.append(f"  {'+' if c.usable else '-'} {c.key}{lat}: {c.note}")
        return "\n".join(lines)


def choose(manifest: Manifest, engine: str = "auto", precision: str = "auto", threads: int | None = None,
           device: dict | None = None, vulkan_available=None) -> Choice:
    dev = device or device_identity()
    threads = default_threads() if threads is None else check_threads(threads)
    engine, precision = (engine or "auto").lower(), (precision or "auto").lower()
    arts = manifest.artifacts
    if engine != "auto":
        if engine not in ENGINES:
            raise EngineUnavailableError(f"unknown engine '{engine}'; choose from auto, {', '.join(ENGINES)}")
        if not any(a["engine"] == engine for a in arts):
            raise BundleError(f"the bundle has no {engine} artifact; it has {_keys(arts)} (use engine='auto')")
    if precision != "auto" and not any(a["precision"] == precision for a in arts):
        raise BundleError(f"the bundle has no {precision} artifact; it has {_keys(arts)} (use precision='auto')")
    explicit = engine != "auto" and precision != "auto"
    cands = []
    for a in arts:
        c = Candidate(a["engine"], a["precision"], False, "")
        if engine != "auto" and a["engine"] != engine or precision != "auto" and a["precision"] != precision:
            c.note = "not requested"
        elif not _installed(a["engine"]):
            pkg = ENGINES[a["engine"]][2] if a["engine"] in ENGINES else a["engine"]
            c.note = f"engine not installed here (pip install {pkg})"
        elif not a["verification"]["passed"] and not explicit:
            c.note = "failed verification against ONNX Runtime"
        else:
            c.usable = True
            c.note = "usable" if a["verification"]["passed"] else "requested explicitly (failed verification)"
        cands.append(c)
    usable = [c for c in cands if c.usable]
    if not usable:
        if engine != "auto" and any(c.engine == engine and "not installed" in c.note for c in cands):
            raise EngineUnavailableError(f"engine '{engine}' is not installed here; pip install {ENGINES[engine][2]}")
        raise BundleError("no artifact in this bundle can run here: " +
                          "; ".join(f"{c.key}: {c.note}" for c in cands))
    measured = _measured(manifest.benchmarks, dev, threads)
    best = None
    for c in usable:
        cpu = measured.get((c.key, "cpu"))
        if cpu is not None:
            c.p50_ms = cpu[0]
            if best is None or cpu[0] < best[0]:
                best = (cpu[0], c, "cpu", cpu[1])
    for c in usable:  # Vulkan only when measured faster than every CPU result and a device exists
        vk = measured.get((c.key, "vulkan"))
        if vk is not None and (best is None or vk[0] < best[0]):
            probe = vulkan_available or _vulkan_available
            if probe():
                best = (vk[0], c, "vulkan", vk[1])
            else:
                c.note += "; Vulkan measured faster but no Vulkan device here"
    if best is not None:
        p50, c, kind, how = best
        return Choice(c.engine, c.precision, kind, threads,
                      f"fastest measured {how} ({dev['class']}): p50 {p50:.3f} ms", cands)
    order = default_order(dev["machine"])
    rank = {k: i for i, k in enumerate(order)}
    pick = min(usable, key=lambda c: (c.precision == "int8", rank.get(c.key, len(order)), c.key))
    return Choice(pick.engine, pick.precision, "cpu", threads,
                  f"no benchmark from this device class ({dev['class']}) in the bundle; default order for "
                  f"{dev['machine']}: {', '.join(order)}", cands)


def _measured(benchmarks: list[dict], dev: dict, threads: int) -> dict[tuple[str, str], tuple[float, str]]:
    """(artifact key, device kind) -> (p50, how matched) from the best-matching device and thread count."""
    same_cpu = [b for b in benchmarks if b["device"]["class"] == dev["class"] and b["device"]["cpu"] == dev["cpu"]]
    same_class = [b for b in benchmarks if b["device"]["class"] == dev["class"]]
    rows, how = (same_cpu, "on this CPU model") if same_cpu else (same_class, "on this device class")
    out: dict[tuple[str, str], tuple[float, int]] = {}
    for b in rows:
        k = (f"{b['engine']}-{b['precision']}", b["device_kind"])
        dist = abs(b["threads"] - threads)
        if k not in out or dist < out[k][1] or dist == out[k][1] and b["p50_ms"] < out[k][0]:
            out[k] = (b["p50_ms"], dist)
    return {k: (v[0], how) for k, v in out.items()}


def _vulkan_available() -> bool:
    """A Vulkan device as ncnn sees it (ncnn is a dependency; probing initialises Vulkan, so only on demand)."""
    if not _installed("ncnn"):
        return False
    import ncnn

    return ncnn.get_gpu_count() > 0


def _installed(engine: str) -> bool:
    """The engine's package is importable (find_spec only: no metadata lookup on the load path)."""
    return engine in ENGINES and provider(engine) is not None


def _keys(arts: list[dict]) -> str:
    return ", ".join(f"{a['engine']}-{a['precision']}" for a in arts)
