"""`edgepack verify TARGET`: a bundle (a .edgepack file, or a directory with manifest.json) is checked on this
device against its stored reference samples (runtime: numpy + engines, plain-text output); an `edgepack
convert` output directory is checked against ONNX Runtime (toolchain, imported only on that path)."""

from __future__ import annotations

from pathlib import Path

import click

from edgepack.runtime.bundle.manifest import MANIFEST

_CONVERT_ONLY = ("data", "limit", "no_vulkan", "report_dir")
_BUNDLE_ONLY = ("engine", "threads", "as_json")


def is_bundle(target: str) -> bool:
    p = Path(target)
    return p.is_file() or (p.is_dir() and (p / MANIFEST).is_file())


@click.command()
@click.argument("target", type=click.Path(path_type=str))
@click.option("--engine", default=None, help="Bundle: check only this engine's artifacts.")
@click.option("--threads", type=int, default=None, help="Bundle: engine threads [default: min(4, cores)].")
@click.option("--json", "as_json", is_flag=True, help="Bundle: print the result as JSON.")
@click.option("--data", default=None, metavar="DIR|FILE.npz",
              help="Convert dir: inputs [default: convert's seeded inputs].")
@click.option("--limit", default=None, type=int, help="Convert dir: use at most N samples from --data [16].")
@click.option("--no-vulkan", is_flag=True, help="Convert dir: skip the ncnn Vulkan vs CPU comparison.")
@click.option("--report-dir", default=None, help="Convert dir: where to write report.json/.md/.png [OUT_DIR].")
@click.pass_context
def verify(ctx: click.Context, target: str, engine: str | None, threads: int | None, as_json: bool,
           data: str | None, limit: int | None, no_vulkan: bool, report_dir: str | None) -> int:
    """Check TARGET: a bundle against its reference samples with every engine installed here (exit 1 on
    disagreement, 2 if it has no references), or an edgepack convert output directory against ONNX Runtime."""
    from edgepack.errors import InputError

    given = {k for k, v in ctx.params.items() if k != "target" and v not in (None, False)}
    if not is_bundle(target):
        if not Path(target).is_dir():
            raise InputError(f"'{target}' not found; pass a bundle (.edgepack) or an edgepack convert output "
                             "directory")
        if given & set(_BUNDLE_ONLY):
            raise InputError(f"--{sorted(given & set(_BUNDLE_ONLY))[0].replace('as_json', 'json')} applies to a "
                             f"bundle; '{target}' is a convert output directory")
        from edgepack.cli.convert import verify as verify_out_dir

        return ctx.invoke(verify_out_dir, out_dir=target, data=data, limit=16 if limit is None else limit,
                          no_vulkan=no_vulkan, report_dir=report_dir)
    if given & set(_CONVERT_ONLY):
        raise InputError(f"--{sorted(given & set(_CONVERT_ONLY))[0].replace('_', '-')} applies to a convert output "
                         f"directory; '{target}' is a bundle (it is checked against its own reference samples)")
    if threads is not None:
        from edgepack.runtime.limits import check_threads

        threads = check_threads(threads, "--threads")
    return verify_bundle(target, engine, threads, as_json)


def verify_bundle(target: str, engine: str | None, threads: int | None, as_json: bool) -> int:
    import json

    from edgepack.cli.term import Table, clean, echo, fmt_cos, fmt_err
    from edgepack.errors import InputError
    from edgepack.runtime.bundle.refcheck import check_bundle

    report = check_bundle(target, engine=engine, threads=threads)
    if as_json:
        echo(json.dumps(report.to_dict(), indent=2))
    else:
        t = Table(f"edgepack verify: {target} ({report.samples} reference samples, ONNX Runtime fp32)",
                  ["artifact", "result", "cosine", "max abs", "top-1", "tolerance", "note"],
                  right=["cosine", "max abs", "tolerance"])
        for c in report.checks:
            a = c.agreement
            t.add_row(c.key, c.status, fmt_cos(a.cosine if a else None), fmt_err(a.max_abs if a else None),
                      f"{c.top1[0]}/{c.top1[1]}" if c.top1 else "-", f">= {c.tolerance}", c.note)
        echo(t.render())
        echo(f"{clean(target)}: " + ("every checked artifact agrees with ONNX Runtime" if report.ok else
                                     "DISAGREEMENT" if report.checked else "nothing checked"))
    if not report.checked:
        raise InputError("no artifact of this bundle that load() may choose could be checked here: install an "
                         "engine it has (pip install 'edgepack[ncnn]', '[mnn]' or '[litert]')")
    return 0 if report.ok else 1


def register(group: click.Group) -> None:
    group.add_command(verify)
