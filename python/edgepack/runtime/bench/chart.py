"""bench.png: latency (p50 with p90/p99 whiskers) and load time per engine x precision x threads."""

from __future__ import annotations

from pathlib import Path


def bench_chart(report, dest: Path) -> Path:
    try:
        import matplotlib
    except ImportError:
        from edgepack.errors import EngineUnavailableError

        raise EngineUnavailableError("the bench chart needs matplotlib: pip install 'edgepack[bench]'") from None
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    rows = report.results
    names = [f"{r.engine}\n{r.precision} x{r.threads}" + ("\nvulkan" if r.device_kind == "vulkan" else "")
             for r in rows]
    xs = range(len(rows))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(max(8, 1.6 * len(rows) + 3), 4.5))
    p50 = [r.p50_ms for r in rows]
    ax1.bar(xs, p50, color="#4c78a8", label="p50")
    ax1.errorbar(xs, p50, yerr=[[0] * len(rows), [r.p99_ms - r.p50_ms for r in rows]], fmt="none", ecolor="#333",
                 capsize=4, label="p99")
    ax1.scatter(xs, [r.p90_ms for r in rows], color="#f58518", zorder=3, label="p90", s=18)
    ax1.set_ylabel("latency, ms")
    ax1.set_title("inference latency")
    ax1.legend(fontsize=8)
    ax2.bar(xs, [r.load_ms for r in rows], color="#54a24b", label="load")
    ax2.bar(xs, [r.first_run_ms for r in rows], bottom=[r.load_ms for r in rows], color="#b79a20",
            label="first run")
    ax2.set_ylabel("ms")
    ax2.set_title("load + first run")
    ax2.legend(fontsize=8)
    for ax in (ax1, ax2):
        ax.set_xticks(list(xs))
        ax.set_xticklabels(names, fontsize=8)
    dev = report.device
    fig.suptitle(f"edgepack bench: {Path(report.source).name} on {dev['cpu']} ({dev['class']}, {dev['cores']} cores)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(dest, dpi=100)
    plt.close(fig)
    return dest
