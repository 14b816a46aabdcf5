"""Terminal output: progress on stderr, result tables on stdout (rich)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

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


def fmt_cos(c: float | None) -> str:
    if c is None or c != c:
        return "-"
    return f"{c:.8f}"


def fmt_err(e: float | None) -> str:
    return "-" if e is None else f"{e:.3g}"


def fmt_size(n: int | None) -> str:
    if not n:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


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
