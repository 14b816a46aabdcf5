"""`edgepack doctor [BUNDLE]`: the device report of runtime/doctor.py as plain text (every value cleaned of
control characters: names and paths may come from a bundle), or as JSON."""

from __future__ import annotations

from typing import Any

import click

# (feature key of _core.cpu_features(), label), per architecture
ARM_FEATURES = (("neon", "NEON"), ("asimdhp", "fp16 arithmetic (asimdhp)"), ("asimddp", "dot product (asimddp)"),
                ("i8mm", "int8 matmul (i8mm)"), ("sve", "SVE"))
X86_FEATURES = (("avx2", "AVX2"), ("f16c", "F16C"), ("fma", "FMA"), ("avx512f", "AVX-512F"))


@click.command()
@click.argument("bundle", required=False, type=click.Path(path_type=str))
@click.option("--engine", default="auto", show_default=True, help="With BUNDLE: the engine load() is asked for.")
@click.option("--precision", default="auto", show_default=True, help="With BUNDLE: the precision asked for.")
@click.option("--threads", type=int, default=None, help="With BUNDLE: the thread count asked for.")
@click.option("--no-vulkan", is_flag=True, help="Do not initialise Vulkan to list its devices.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def doctor(bundle, engine, precision, threads, no_vulkan, as_json) -> int:
    """Report this device (CPU features, kernel path, Vulkan, engines, Python/numpy/glibc/OS) and, for BUNDLE,
    what edgepack.load would choose and why: the first thing to paste into a bug report."""
    import json

    from edgepack.cli.term import echo, error
    from edgepack.runtime.doctor import collect
    from edgepack.runtime.limits import check_threads

    if threads is not None:
        threads = check_threads(threads, "--threads")
    report = collect(bundle, engine=engine, precision=precision, threads=threads, vulkan=not no_vulkan)
    echo(json.dumps(report, indent=2) if as_json else render(report))
    problem = report.get("bundle", {}).get("error")
    if problem:
        error(f"error: {_clean(problem)}")
        return 2
    return 0


def _clean(value: object) -> str:
    from edgepack.cli.term import clean

    return clean(value)


def render(report: dict[str, Any]) -> str:
    """The report of runtime.doctor.collect() as plain text, every value cleaned of control characters."""
    lines: list[str] = []

    def add(key: str, value: object, indent: int = 0) -> None:
        lines.append(f"{' ' * indent}{key + ':':<22}{_clean(value)}")

    e, s, c, k = report["edgepack"], report["system"], report["cpu"], report["kernels"]
    lines.append("edgepack doctor")
    add("edgepack", f"{e['version']} ({e['path']})")
    add("os", s["os"])
    add("kernel", s["kernel"])
    add("python", f"{s['python']} ({s['python_executable']})")
    add("libc", s["libc"])
    add("numpy", s["numpy"])
    add("cpu", f"{c['model']} ({c['machine']}, {c['cores']} cores)")
    add("device class", c["device_class"])
    feats = c.get("features")
    if feats is None:
        add("cpu features", "unknown (C++ core not built)")
    else:
        table = ARM_FEATURES if c["machine"].startswith(("aarch64", "arm")) else X86_FEATURES
        add("cpu features", ", ".join(f"{label} {'yes' if feats.get(key) else 'no'}" for key, label in table))
    if k.get("core"):
        isa_env = k["EDGEPACK_ISA"] or "unset"
        add("kernel path", f"{k['active']} (available: {', '.join(k['available'])}; compiled: "
                           f"{', '.join(k['compiled'])}; EDGEPACK_ISA={isa_env})")
        if k.get("note"):
            add("kernel note", k["note"])
    else:
        add("kernel path", k.get("error", "unavailable"))
    _render_vulkan(report["vulkan"], add)
    lines.append("engines:")
    for row in report["engines"]:
        if not row["installed"]:
            state = f"not installed (pip install {row['package']})"
        elif row["imports"]:
            state = f"{row['version']}"
        else:
            state = f"{row['version']}, FAILS TO IMPORT: {row['error']}"
        add(row["engine"], state, indent=2)
    if "bundle" in report:
        _render_bundle(report["bundle"], lines, add)
    return "\n".join(lines)


def _render_vulkan(v: dict[str, Any], add) -> None:
    if not v.get("probed"):
        add("vulkan", "not probed (--no-vulkan)")
        return
    core = v.get("core", {})
    if not core.get("built"):
        add("vulkan (core)", "not compiled into this build")
    elif core.get("devices"):
        add("vulkan (core)", "; ".join(f"{d['name']} ({d['type']}, Vulkan {d['api_version']})"
                                       + (" [selected]" if d.get("selected") else "") for d in core["devices"]))
    else:
        add("vulkan (core)", f"no device ({core.get('note') or 'the loader reports none'})")
    if "ncnn" in v:
        n = v["ncnn"]
        add("vulkan (ncnn)", n["error"] if "error" in n else (", ".join(n["devices"]) or "no device"))


def _render_bundle(b: dict[str, Any], lines: list[str], add) -> None:
    lines.append(f"bundle {_clean(b['path'])}:")
    if "error" in b:
        add("error", b["error"], indent=2)
        return
    add("model", f"{b['name']} v{b['model_version']} ({b['task']}), packed by edgepack {b['packed_by']} "
                 f"at {b['created_utc']}", indent=2)
    add("artifacts", ", ".join(b["artifacts"]), indent=2)
    add("reference samples", b["references"] or "none (edgepack verify BUNDLE needs a repack)", indent=2)
    add("benchmarked on", ", ".join(b["benchmark_classes"]) or "no device", indent=2)
    if "choice_error" in b:
        add("load() chooses", f"nothing: {b['choice_error']}", indent=2)
        return
    ch = b["choice"]
    add("load() chooses", f"{ch['artifact']} on {ch['device']}, {ch['threads']} thread(s): {ch['reason']}", indent=2)
    for cand in ch["candidates"]:
        lat = f", p50 {cand['p50_ms']:.3f} ms" if cand["p50_ms"] is not None else ""
        mark = "+" if cand["usable"] else "-"
        lines.append(f"    {mark} {_clean(cand['artifact'])}{_clean(lat)}: {_clean(cand['note'])}")


def register(group: click.Group) -> None:
    group.add_command(doctor)
