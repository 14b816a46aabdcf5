"""Terminal output: progress on stderr, result tables on stdout (rich)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from edgepack.cli.term import fmt_cos, fmt_err, fmt_ms, fmt_size  # noqa: F401 (used by callers too)

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@contextlib.contextmanager
def steps(total: int, title: str) -> Iterator:
    """A progress bar whose callback advances one step and shows what is running now."""
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(title, total=total)
        first = [True]

        def advance(text: str) -> None:
            if not first[0]:
                bar.advance(task)
            first[0] = False
            bar.update(task, description=text)

        yield advance
        bar.update(task, completed=total)





def status(ok: bool, error: str | None = None) -> str:
    if error:
        return "[red]error[/red]"
    return "[green]pass[/green]" if ok else "[red]FAIL[/red]"


def convert_table(result) -> Table:
    t = Table(title=f"edgepack convert: {escape(str(result.source))}")
    for col in ("engine", "precision", "cosine", "max abs err", "elems off", "convert s", "size", "status"):
        t.add_column(col, justify="right" if col not in ("engine", "precision", "status") else "left")
    for r in result.results:
        ov = r.parity.overall if r.parity else None
        art = r.artifact
        t.add_row(r.engine, r.precision, fmt_cos(ov.cosine if ov else None), fmt_err(ov.max_abs if ov else None),
                  f"{ov.mismatch:.2%}" if ov else "-", f"{art.convert_seconds:.2f}" if art else "-",
                  fmt_size(art.size_bytes if art else None),
                  status(r.ok, r.error))
    return t


def pack_table(res) -> Table:
    """One row per artifact: parity, measured latency (threads of the first bench), size, status."""
    t = Table(title=f"edgepack pack: {escape(str(res.path))}")
    for col in ("engine", "precision", "cosine", "max abs err", "load ms", "p50 ms", "size", "status"):
        t.add_column(col, justify="left" if col in ("engine", "precision", "status") else "right")
    bench = {}
    for b in res.benchmarks:
        bench.setdefault(b.key, b)
    for r in res.convert.results:
        ov = r.parity.overall if r.parity else None
        b = bench.get(f"{r.engine}-{r.precision}")
        t.add_row(r.engine, r.precision, fmt_cos(ov.cosine if ov else None), fmt_err(ov.max_abs if ov else None),
                  fmt_ms(b.load_ms if b else None), fmt_ms(b.p50_ms if b else None),
                  fmt_size(r.artifact.size_bytes if r.artifact else None), status(r.ok, r.error))
    return t
