"""Plain-text tables of the runtime commands: info (manifest, artifacts, recorded benchmarks) and bench."""

from __future__ import annotations

from pathlib import Path

from edgepack.cli.term import Table, fmt_cos, fmt_ms, fmt_size, verdict


def info_tables(manifest, path: Path) -> list:
    doc = manifest.doc
    m = doc["model"]
    head = Table(str(path), ("field", "value"), header=False)
    head.add_row("model", f"{m['name']} version {m['version']}")
    head.add_row("task", doc["task"])
    head.add_row("edgepack", f"{doc['edgepack_version']} (bundle schema {doc['schema_version']})")
    for t in doc["inputs"]:
        head.add_row("input", f"{t['name']} {t['shape']} {t['dtype']}")
    for t in doc["outputs"]:
        head.add_row("output", f"{t['name']} {t['shape']} {t['dtype']}")
    pre = doc.get("preprocess")
    if pre:
        head.add_row("preprocess", f"{pre['color']} {pre['width']}x{pre['height']} {pre['resize']}, mean "
                                   f"{pre['mean']} std {pre['std']}, {pre['layout']} {pre['dtype']}")
    post = dict(doc["postprocess"])
    head.add_row("postprocess", ", ".join(f"{k}={v}" for k, v in post.items()))
    labels = doc["labels"]
    if labels:
        shown = ", ".join(labels[:12]) + (f" ... ({len(labels)} labels)" if len(labels) > 12 else "")
        head.add_row("labels", shown)
    arts = Table("artifacts", ("engine", "precision", "files", "size", "converter", "cosine", "verified"),
                 right=("size", "cosine"))
    for a in doc["artifacts"]:
        v = a["verification"]
        arts.add_row(a["engine"], a["precision"], ", ".join(Path(f).name for f in a["files"].values()),
                     fmt_size(a["size_bytes"]), f"{a['converter']} {a['converter_version']}",
                     fmt_cos(v.get("cosine")), verdict(v["passed"]))
    tables = [head, arts]
    if doc["benchmarks"]:
        tables.append(bench_table(doc["benchmarks"], "benchmarks recorded in the bundle"))
    return tables


def bench_table(rows: list[dict], title: str) -> Table:
    cols = ("device", "engine", "precision", "on", "threads", "load ms", "first ms", "p50 ms", "p90 ms", "p99 ms",
            "per s", "peak RSS MB", "size", "session x", "load x")
    t = Table(title, cols, right=cols[4:])
    for b in rows:
        dev = b.get("device") or {}
        so, lo = b.get("session_overhead"), b.get("load_overhead")
        rss = b.get("peak_rss_mb")
        t.add_row(f"{dev.get('cpu', '?')} ({dev.get('class', '?')})", b["engine"], b["precision"],
                  b["device_kind"], str(b["threads"]), fmt_ms(b["load_ms"]), fmt_ms(b["first_run_ms"]),
                  fmt_ms(b["p50_ms"]), fmt_ms(b["p90_ms"]), fmt_ms(b["p99_ms"]), f"{b['throughput_per_s']:.1f}",
                  "-" if rss is None else f"{rss:.1f}", fmt_size(b.get("size_bytes")),
                  "-" if so is None else f"{so:.3f}", "-" if lo is None else f"{lo:.3f}")
    return t
