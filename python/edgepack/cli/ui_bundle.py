"""Rich tables for pack / info / bench."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.table import Table

from edgepack.cli.ui import fmt_cos, fmt_err, fmt_size, status


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


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
                  _ms(b.load_ms if b else None), _ms(b.p50_ms if b else None),
                  fmt_size(r.artifact.size_bytes if r.artifact else None), status(r.ok, r.error))
    return t


def info_tables(manifest, path: Path) -> list:
    doc = manifest.doc
    m = doc["model"]
    head = Table(title=f"{escape(str(path))}", show_header=False)
    head.add_column("field", style="bold")
    head.add_column("value")
    head.add_row("model", f"{escape(m['name'])} version {escape(m['version'])}")
    head.add_row("task", doc["task"])
    head.add_row("edgepack", f"{doc['edgepack_version']} (bundle schema {doc['schema_version']})")
    for t in doc["inputs"]:
        head.add_row("input", f"{escape(t['name'])} {t['shape']} {t['dtype']}")
    for t in doc["outputs"]:
        head.add_row("output", f"{escape(t['name'])} {t['shape']} {t['dtype']}")
    pre = doc.get("preprocess")
    if pre:
        head.add_row("preprocess", f"{pre['color']} {pre['width']}x{pre['height']} {pre['resize']}, mean "
                                   f"{pre['mean']} std {pre['std']}, {pre['layout']} {pre['dtype']}")
    post = dict(doc["postprocess"])
    head.add_row("postprocess", escape(", ".join(f"{k}={v}" for k, v in post.items())))
    labels = doc["labels"]
    if labels:
        shown = ", ".join(labels[:12]) + (f" ... ({len(labels)} labels)" if len(labels) > 12 else "")
        head.add_row("labels", escape(shown))
    arts = Table(title="artifacts")
    for col in ("engine", "precision", "files", "size", "converter", "cosine", "verified"):
        arts.add_column(col, justify="right" if col in ("size", "cosine") else "left")
    for a in doc["artifacts"]:
        v = a["verification"]
        arts.add_row(a["engine"], a["precision"], escape(", ".join(Path(f).name for f in a["files"].values())),
                     fmt_size(a["size_bytes"]), escape(f"{a['converter']} {a['converter_version']}"),
                     fmt_cos(v.get("cosine")), status(v["passed"]))
    tables = [head, arts]
    if doc["benchmarks"]:
        tables.append(bench_table(doc["benchmarks"], "benchmarks recorded in the bundle"))
    return tables


def bench_table(rows: list[dict], title: str) -> Table:
    t = Table(title=title)
    cols = ("device", "engine", "precision", "on", "threads", "load ms", "first ms", "p50 ms", "p90 ms", "p99 ms",
            "per s", "peak RSS MB", "size", "session x", "load x")
    for col in cols:
        t.add_column(col, justify="left" if col in ("device", "engine", "precision", "on") else "right")
    for b in rows:
        dev = b.get("device") or {}
        so, lo = b.get("session_overhead"), b.get("load_overhead")
        rss = b.get("peak_rss_mb")
        t.add_row(escape(f"{dev.get('cpu', '?')} ({dev.get('class', '?')})"), b["engine"], b["precision"],
                  b["device_kind"], str(b["threads"]), _ms(b["load_ms"]), _ms(b["first_run_ms"]), _ms(b["p50_ms"]),
                  _ms(b["p90_ms"]), _ms(b["p99_ms"]), f"{b['throughput_per_s']:.1f}",
                  "-" if rss is None else f"{rss:.1f}", fmt_size(b.get("size_bytes")),
                  "-" if so is None else f"{so:.3f}", "-" if lo is None else f"{lo:.3f}")
    return t
