"""Device descriptor recorded with every benchmark: CPU model, ISA, cores, OS, engine versions, and the
device class used to match benchmark results to the machine a bundle is loaded on."""

from __future__ import annotations

import functools
import os
import platform
from pathlib import Path


@functools.lru_cache(maxsize=1)
def device_identity() -> dict:
    """What the artifact choice matches on (cheap: no package metadata lookups, which cost tens of ms)."""
    machine = _machine()
    isa = _isa(machine)
    system = platform.system().lower() or "unknown"
    return {
        "class": device_class(system, machine, isa),
        "cpu": _cpu_model(),
        "machine": machine,
        "isa": isa,
        "cores": os.cpu_count() or 1,
        "os": f"{platform.system()} {platform.release()}".strip(),
    }


@functools.lru_cache(maxsize=1)
def describe_device() -> dict:
    """device_identity() plus the installed engine versions: what a benchmark record carries."""
    from edgepack.runtime.engines import list_engines

    return {**device_identity(), "engines": {e.name: e.version for e in list_engines() if e.installed}}


def device_class(system: str, machine: str, isa: str) -> str:
    """Machines in one class run the same code paths: same OS, architecture and ISA features."""
    return f"{system}-{machine}-{isa}"


def _machine() -> str:
    m = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64", "armv8l": "aarch64"}.get(m, m)


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            return set(value.split())
    return set()


def _isa(machine: str) -> str:
    """x86: avx512 / avx2 / sse; ARM: neon plus fp16 arithmetic and dotprod, which decide whether ncnn/MNN
    fp16 and int8 paths are fast."""
    flags = _cpu_flags()
    if machine in ("x86_64", "i686", "x86"):
        if "avx512f" in flags:
            return "avx512"
        return "avx2" if "avx2" in flags else "sse"
    if machine.startswith("arm") or machine == "aarch64":
        isa = "neon"
        if "asimdhp" in flags:
            isa += "-fp16"
        if "asimddp" in flags:
            isa += "-dotprod"
        return isa
    return "generic"


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        text = ""
    for key in ("model name", "model", "hardware", "cpu model"):  # x86 "model" is a number: skip digits
        for line in text.splitlines():
            k, _, v = line.partition(":")
            if k.strip().lower() == key and v.strip() and not v.strip().isdigit():
                return v.strip()
    return platform.processor() or platform.machine() or "unknown"
