"""Runtime commands (what a device runs on a bundle): info, run, bench, engines. Plain-text output
(cli/term.py): the runtime installs without rich, and everything from a bundle is cleaned before printing."""

from __future__ import annotations

from pathlib import Path

import click

from edgepack.cli.args import parse_threads


@click.command()
@click.argument("bundle", type=click.Path(path_type=str))
@click.option("--explain", is_flag=True, help="Show which artifact edgepack.load would choose here, and why.")
@click.option("--engine", default="auto", show_default=True, help="With --explain: the engine to ask for.")
@click.option("--precision", default="auto", show_default=True, help="With --explain: the precision to ask for.")
@click.option("--threads", type=int, default=None, help="With --explain: the thread count to ask for.")
@click.option("--no-verify", is_flag=True, help="Skip the sha256 check of every artifact file.")
@click.option("--json", "as_json", is_flag=True, help="Print manifest.json as it is.")
def info(bundle, explain, engine, precision, threads, no_verify, as_json) -> int:
    """Print a bundle's manifest readably, check its files, and (--explain) the engine choice."""
    import json

    from edgepack.cli.term import clean, echo, error
    from edgepack.cli.ui_bundle import info_tables
    from edgepack.runtime.bundle.choose import choose
    from edgepack.runtime.bundle.reader import Bundle

    with Bundle(bundle) as b:
        if as_json:
            click.echo(json.dumps(b.manifest.doc, indent=2))
            return 0
        for t in info_tables(b.manifest, b.path):
            echo(t.render())
        problems = [] if no_verify else b.verify()
        if explain:
            echo("\n".join(clean(line) for line in choose(b.manifest, engine, precision, threads).explain()
                           .splitlines()))
    if no_verify:
        echo("integrity: not checked (--no-verify)")
    elif problems:
        for p in problems:
            error(f"corrupt: {clean(p)}")
        return 1
    else:
        echo("integrity: every artifact file matches its sha256")
    return 0


@click.command()
@click.argument("bundle", type=click.Path(path_type=str))
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--engine", default="auto", show_default=True)
@click.option("--precision", default="auto", show_default=True)
@click.option("--threads", type=int, default=None, help="[default: min(4, cores)]")
@click.option("--save", default=None, help="Draw the result (labels, boxes, mask) into this PNG; with several "
                                           "images, one file per image named <save stem>_<image stem>.png.")
def run(bundle, images, engine, precision, threads, save) -> int:
    """Run IMAGE(s) through BUNDLE with edgepack.load and print the results."""
    from edgepack.cli.term import clean, echo
    from edgepack.runtime.session import load

    with load(bundle, engine=engine, precision=precision, threads=threads) as sess:
        echo(f"{clean(sess.manifest.name)}: {sess.task} with {sess.engine} {sess.precision} "
             f"({sess.choice.threads} threads)")
        for img in images:
            res = sess.run(img)
            echo(f"{clean(img)}: {clean(res)}")
            if save:
                from edgepack.runtime.pipeline.draw import save_drawing

                dest = Path(save) if len(images) == 1 else Path(save).with_name(
                    f"{Path(save).stem}_{Path(img).stem}.png")
                save_drawing(img, res, dest)
                echo(f"  saved {clean(dest)}")
    return 0


@click.command()
@click.argument("target", type=click.Path(path_type=str))
@click.option("--threads", default="1,2", show_default=True, help="Thread counts, comma-separated.")
@click.option("--runs", default=50, show_default=True, help="Timed runs per artifact x thread count.")
@click.option("--no-overhead", is_flag=True, help="Skip the Session overhead measurements (bundles only).")
@click.option("-o", "--output", default=None, help="Report directory for bench.json + bench.png "
                                                   "[default: ./<name>_bench].")
@click.option("--record", is_flag=True, help="Store this device's results in the bundle (rewritten atomically), "
                                             "so that edgepack.load picks the fastest artifact on this class.")
@click.option("--vulkan", is_flag=True, help="Also measure ncnn artifacts on the Vulkan device.")
@click.option("--force", is_flag=True, help="Replace the report directory if it exists.")
def bench(target, threads, runs, no_overhead, output, record, vulkan, force) -> int:
    """Benchmark every artifact of a bundle or of an edgepack convert output directory."""
    from edgepack.cli.term import clean, echo, error, steps
    from edgepack.cli.ui_bundle import bench_table
    from edgepack.errors import InputError
    from edgepack.runtime.bench.run import record_into_bundle, run_bench, write_report

    thread_list = parse_threads(threads)
    out_dir = Path(output or f"{Path(target).name.split('.')[0]}_bench")
    if out_dir.exists() and not force and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InputError(f"output '{out_dir}' already exists; pass --force to replace it or choose another -o")
    with steps(1, "bench") as advance:
        report = run_bench(target, thread_list, runs, overhead=not no_overhead, vulkan=vulkan, progress=advance)
    rows = [r.to_dict() for r in report.results]
    echo(bench_table(rows, f"edgepack bench: {target} ({runs} runs)").render())
    for note in report.notes:
        error(f"note: {clean(note)}")
    write_report(report, out_dir, force=force)
    written = [p for p in (out_dir / "bench.json", out_dir / "bench.png") if p.exists()]
    echo("wrote " + " and ".join(clean(p) for p in written))
    if record:
        if report.kind != "bundle":
            raise InputError("--record stores results in a bundle; TARGET is a convert directory")
        record_into_bundle(target, report.results)
        echo(f"recorded {len(report.results)} results for {clean(report.device['class'])} in {clean(target)}")
    return 0 if report.results else 1


@click.command()
def engines() -> int:
    """List the inference engines and whether they are installed here."""
    from edgepack.cli.term import Table, echo
    from edgepack.runtime.engines import list_engines

    t = Table("edgepack engines", ("engine", "package", "installed", "version"))
    for st in list_engines():
        t.add_row(st.name, st.package, "yes" if st.installed else "no", st.version or f"pip install {st.package}")
    echo(t.render())
    return 0


def register(group: click.Group) -> None:
    for cmd in (info, run, bench, engines):
        group.add_command(cmd)
