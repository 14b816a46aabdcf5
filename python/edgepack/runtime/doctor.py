"""`edgepack doctor [BUNDLE]`: what this device is and what edgepack would do on it, in one report to paste
into a bug report. CPU model and the ISA features as the C++ core detects them (x86: AVX2/F16C/FMA/AVX-512;
ARM: NEON, fp16 arithmetic, dot product, i8mm, SVE from the kernel's HWCAP words), the kernel path in use
and EDGEPACK_ISA, Vulkan devices (the core's and ncnn's view), every engine (installed, version, whether
it imports), numpy / Python / glibc / OS, and for a bundle what `load()` would choose and why.

Runtime only: numpy, the standard library and whatever engines are installed. Every probe is guarded: a
missing or broken part is reported, never raised. Text that comes from a bundle is untrusted: the command
(cli/doctor.py) cleans every value before it reaches a terminal, and its JSON escapes it."""

from __future__ import annotations

import importlib
import os
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

from edgepack import __version__
from edgepack.errors import Error


def collect(bundle: str | Path | None = None, engine: str = "auto", precision: str = "auto",
            threads: int | None = None, vulkan: bool = True) -> dict[str, Any]:
    """The whole report as plain data (what `--json` prints). vulkan=False skips initialising Vulkan."""
    from edgepack.runtime.bench.device import device_identity

    dev = device_identity()
    report: dict[str, Any] = {
        "edgepack": {"version": __version__, "path": str(Path(__file__).resolve().parents[1])},
        "system": _system(),
        "cpu": {"model": dev["cpu"], "machine": dev["machine"], "cores": dev["cores"], "device_class": dev["class"]},
        "kernels": _kernels(),
        "vulkan": _vulkan() if vulkan else {"probed": False},
        "engines": _engines(),
    }
    report["cpu"]["features"] = report["kernels"].pop("features", None)
    if bundle is not None:
        report["bundle"] = _bundle(bundle, engine, precision, threads)
    return report


def _system() -> dict[str, Any]:
    libc, libc_version = platform.libc_ver()
    return {
        "os": _os_release() or f"{platform.system()} {platform.release()}",
        "kernel": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_executable": sys.executable,
        "libc": f"{libc} {libc_version}".strip() or "unknown",
        "numpy": np.__version__,
    }


def _os_release() -> str:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            for line in Path(path).read_text(errors="replace").splitlines():
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
        except OSError:
            continue
    return ""


def _kernels() -> dict[str, Any]:
    out: dict[str, Any] = {"EDGEPACK_ISA": os.environ.get("EDGEPACK_ISA", "")}
    try:
        from edgepack import _core
    except ImportError as e:
        out.update(core=False, error=f"edgepack's C++ core is not built in this installation ({e}); the "
                                     "kernels are unavailable: install edgepack from a wheel")
        return out
    out.update(core=True, active=_core.active_isa(), available=list(_core.available_isas()),
               compiled=list(_core.compiled_isas()), note=_core.isa_note(), features=dict(_core.cpu_features()))
    return out


def _vulkan() -> dict[str, Any]:
    out: dict[str, Any] = {"probed": True}
    try:
        from edgepack import _core
    except ImportError:
        out["core"] = {"built": False, "note": "C++ core not built"}
    else:
        core: dict[str, Any] = {"built": bool(_core.vulkan_built())}
        if core["built"]:
            core["available"] = bool(_core.vulkan_available())
            core["devices"] = [dict(d) for d in _core.vulkan_devices()]
            core["note"] = _core.vulkan_note()
        out["core"] = core
    from edgepack.runtime.engines import module_present

    if module_present("ncnn"):
        try:
            import ncnn

            n = int(ncnn.get_gpu_count()) if hasattr(ncnn, "get_gpu_count") else 0
            out["ncnn"] = {"devices": [_ncnn_gpu_name(ncnn, i) for i in range(n)]}
        except Exception as e:  # a broken driver must not stop the report
            out["ncnn"] = {"error": f"{type(e).__name__}: {e}"}
    return out


def _ncnn_gpu_name(ncnn, index: int) -> str:
    try:
        return str(ncnn.get_gpu_info(index).device_name())
    except Exception:  # older bindings lack GpuInfo.device_name
        return f"device {index}"


def _engines() -> list[dict[str, Any]]:
    from edgepack.runtime._quiet import quiet_stdout
    from edgepack.runtime.engines import ENGINES, engine_status

    rows = []
    for name in ENGINES:
        st = engine_status(name)
        row: dict[str, Any] = {"engine": name, "package": st.package, "installed": st.installed,
                               "version": st.version, "imports": None, "error": ""}
        if st.installed:
            try:  # the import itself is the check (e.g. a wheel whose glibc needs are not met fails here)
                with quiet_stdout():
                    importlib.import_module(ENGINES[name][3])
                row["imports"] = True
            except Exception as e:
                row["imports"], row["error"] = False, f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"
        rows.append(row)
    return rows


def _bundle(path: str | Path, engine: str, precision: str, threads: int | None) -> dict[str, Any]:
    from edgepack.runtime.bundle.choose import choose
    from edgepack.runtime.bundle.reader import Bundle

    out: dict[str, Any] = {"path": str(path)}
    try:
        with Bundle(path) as b:
            m = b.manifest
            out.update(name=m.name, model_version=m.doc["model"].get("version"), task=m.task,
                       packed_by=m.doc.get("edgepack_version"), created_utc=m.doc.get("created_utc"),
                       artifacts=[f"{a['engine']}-{a['precision']}" for a in m.artifacts],
                       references=(m.references or {}).get("samples", 0),
                       benchmark_classes=sorted({x["device"]["class"] for x in m.benchmarks}))
            try:
                c = choose(m, engine, precision, threads)
            except Error as e:  # e.g. no engine for any artifact installed here: that is the finding
                out["choice_error"] = str(e)
                return out
            out["choice"] = {"artifact": c.key, "device": c.device_kind, "threads": c.threads, "reason": c.reason,
                             "candidates": [{"artifact": x.key, "usable": x.usable, "note": x.note,
                                             "p50_ms": x.p50_ms} for x in c.candidates]}
    except Error as e:
        out["error"] = str(e)
    return out
