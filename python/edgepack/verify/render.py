"""Write a verify report: report.json (everything), report.md (tables), report.png (1 - cosine per artifact
and output, log scale), and a rich table for the terminal."""

from __future__ import annotations

import json
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from edgepack.cli.term import clean
from edgepack.runtime._fsutil import atomic_write_bytes


def md(value: object) -> str:
    """A Markdown table cell from text a model named (outputs, layers, errors): one line, no table, HTML or
    code breakout."""
    return clean(value).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("`", "'")


def _fmt(v: float | None, spec: str) -> str:
    return "-" if v is None or v != v else format(v, spec)


def flat_rows(report: dict) -> list[dict]:
    out = []
    for r in report["artifacts"]:
        for name, m in (r.get("outputs") or {"-": {}}).items():
            out.append({"engine": r["engine"], "precision": r["precision"], "device": r["device"],
                        "vs": r.get("vs", "onnxruntime fp32"), "output": clean(name), **m, "ok": r.get("ok", False),
                        "error": clean(r["error"]) if r.get("error") else None})
    return out


def table(report: dict) -> Table:
    t = Table(title=escape(f"edgepack verify: {clean(report['dir'])} ({report['samples']} samples, "
                           f"{clean(report['inputs'])})"))
    for col in ("engine", "precision", "device", "vs", "output", "cosine", "max abs", "mean rel", "top-1", "top-5",
                "status"):
        t.add_column(col, justify="right" if col in ("cosine", "max abs", "mean rel", "top-1", "top-5") else "left")
    for r in flat_rows(report):
        status = "[red]error[/red]" if r["error"] else ("[green]pass[/green]" if r["ok"] else "[red]FAIL[/red]")
        t.add_row(r["engine"], r["precision"], r["device"], r["vs"], escape(r["output"]), _fmt(r.get("cosine"), ".8f"),
                  _fmt(r.get("max_abs"), ".3g"), _fmt(r.get("mean_rel"), ".3g"), _fmt(r.get("top1"), ".2%"),
                  _fmt(r.get("top5"), ".2%"), status)
    return t


def markdown(report: dict) -> str:
    lines = [f"# edgepack verify: {md(report['dir'])}", "",
             f"{report['samples']} samples ({md(report['inputs'])}); reference: ONNX Runtime fp32.", "",
             "| engine | precision | device | vs | output | cosine | max abs | mean rel | top-1 | top-5 | status |",
             "|---|---|---|---|---|---:|---:|---:|---:|---:|---|"]
    for r in flat_rows(report):
        status = "error: " + md(r["error"]) if r["error"] else ("pass" if r["ok"] else "FAIL")
        lines.append(f"| {r['engine']} | {r['precision']} | {r['device']} | {r['vs']} | {md(r['output'])} | "
                     f"{_fmt(r.get('cosine'), '.8f')} | {_fmt(r.get('max_abs'), '.3g')} | "
                     f"{_fmt(r.get('mean_rel'), '.3g')} | {_fmt(r.get('top1'), '.2%')} | "
                     f"{_fmt(r.get('top5'), '.2%')} | {status} |")
    diag = report.get("ncnn_int8_layers")
    if diag:
        lines += ["", "## ncnn int8 vs fp32, layer by layer", ""]
        first = diag["first_divergent"]
        lines.append(f"First layer below cosine {diag['threshold']}: " + (
            f"**{md(first['layer'])}** ({md(first['type'])}, blob {md(first['blob'])}, cosine {first['cosine']:.6f})"
            if first else "none"))
        lines += ["", "| layer | type | int8 | cosine | max abs |", "|---|---|---|---:|---:|"]
        for ly in diag["layers"]:
            lines.append(f"| {md(ly['layer'])} | {md(ly['type'])} | {'yes' if ly['int8'] else ''} | "
                         f"{_fmt(ly['cosine'], '.6f')} | {_fmt(ly['max_abs'], '.3g')} |")
    if report["notes"]:
        lines += ["", "## Notes", ""] + [f"- {md(n)}" for n in report["notes"]]
    return "\n".join(lines) + "\n"


def chart(report: dict, path: Path) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in flat_rows(report) if r.get("cosine") is not None]
    labels = [f"{r['engine']} {r['precision']}{' gpu' if r['device'] != 'cpu' else ''}\n{r['output']}" for r in rows]
    vals = [max(1.0 - r["cosine"], 1e-12) if r["cosine"] == r["cosine"] else 1.0 for r in rows]
    fig, axes = plt.subplots(1, 2 if report.get("ncnn_int8_layers") else 1, figsize=(12, 4.5), squeeze=False)
    ax = axes[0][0]
    ax.bar(range(len(vals)), vals, color=["tab:green" if r["ok"] else "tab:red" for r in rows])
    ax.set_yscale("log")
    ax.set_xticks(range(len(vals)), labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("1 - cosine vs reference (lower is better)")
    ax.set_title("agreement per artifact and output")
    diag = report.get("ncnn_int8_layers")
    if diag:
        ax2 = axes[0][1]
        ys = [max(1.0 - (ly["cosine"] if ly["cosine"] == ly["cosine"] else 0.0), 1e-12) for ly in diag["layers"]]
        ax2.plot(range(len(ys)), ys, marker=".")
        ax2.set_yscale("log")
        ax2.set_xlabel("layer (graph order)")
        ax2.set_title("ncnn int8 vs fp32: 1 - cosine per layer")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def write(report: dict, out_dir: Path) -> list[Path]:
    paths = [out_dir / "report.json", out_dir / "report.md", out_dir / "report.png"]
    atomic_write_bytes(paths[0], json.dumps(report, indent=2, default=float).encode())
    atomic_write_bytes(paths[1], markdown(report).encode())
    chart(report, paths[2])
    return paths
