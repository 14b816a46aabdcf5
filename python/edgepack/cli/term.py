"""Plain terminal output for the runtime commands (run, info, bench, engines, doctor, verify BUNDLE).

The runtime installs on a board with numpy, click and an engine, nothing else, so its commands cannot use
rich. Everything printed here goes through `clean()`: text from a bundle or a model (names, labels, paths)
is untrusted and must not reach a terminal with escape sequences or line breaks in it."""

from __future__ import annotations

import contextlib
import re
import sys
import time
from collections.abc import Iterator, Sequence

# C0 controls (tab and newline included: one value stays on one line), DEL, C1 controls; bidi overrides and
# zero-width characters that make a terminal show something other than what is there.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def clean(value: object) -> str:
    """`value` as one printable line: control characters (ESC of CSI/OSC sequences, CR, LF, ...) shown as
    their escaped form, so nothing from a bundle can move the cursor, retitle the window or fake lines."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))


def echo(text: str = "") -> None:
    print(text, flush=True)


def error(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Table:
    """A titled text table; cells are cleaned; numbers right-aligned (columns named in `right`)."""

    def __init__(self, title: str, columns: Sequence[str], right: Sequence[str] = (), header: bool = True):
        self.title, self.columns, self.right, self.header = clean(title), list(columns), set(right), header
        self.rows: list[list[str]] = []

    def add_row(self, *cells: object) -> None:
        self.rows.append([clean(c) for c in cells])

    def render(self) -> str:
        grid = ([self.columns] if self.header else []) + self.rows
        widths = [max(len(r[i]) for r in grid) for i in range(len(self.columns))] if grid else []

        def line(cells: list[str]) -> str:
            return "  ".join(c.rjust(w) if col in self.right else c.ljust(w)
                             for c, w, col in zip(cells, widths, self.columns)).rstrip()

        lines = [self.title] if self.title else []
        if self.header:
            lines += [line(self.columns), "  ".join("-" * w for w in widths)]
        lines += [line(r) for r in self.rows]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


@contextlib.contextmanager
def steps(total: int, title: str) -> Iterator:
    """Progress for long work on stderr: one line per step when stderr is a terminal, nothing otherwise."""
    live = sys.stderr.isatty()
    start = time.monotonic()
    count = [0]

    def advance(text: str) -> None:
        count[0] += 1
        if live:
            print(f"\r\x1b[K{clean(title)} {min(count[0], total)}/{total} {clean(text)} "
                  f"({time.monotonic() - start:.0f} s)", end="", file=sys.stderr, flush=True)

    try:
        yield advance
    finally:
        if live and count[0]:
            print("\r\x1b[K", end="", file=sys.stderr, flush=True)


def fmt_cos(c: float | None) -> str:
    if c is None or c != c:
        return "-"
    return f"{c:.8f}"


def fmt_err(e: float | None) -> str:
    return "-" if e is None else f"{e:.3g}"


def fmt_ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def fmt_size(n: int | None) -> str:
    if not n:
        return "-"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(n)


def verdict(ok: bool, error: str | None = None) -> str:
    return "error" if error else ("pass" if ok else "FAIL")
