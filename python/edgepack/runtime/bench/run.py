"""`edgepack bench BUNDLE|OUTDIR`: every artifact x thread count, measured in child processes; for bundles
also the Session overheads (P2, P5). Writes bench.json + bench.png; `--record` stores this device's
results in the bundle, so that edgepack.load picks the fastest artifact on machines of this class."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from edgepack import __version__
from edgepack.errors import Error, InputError
from edgepack.runtime._fsutil import atomic_dir, atomic_write_bytes, private_tempdir
from edgepack.runtime.artifact import Artifact, load_artifacts, seeded_inputs
from edgepack.runtime.bench.device import describe_device
from edgepack.runtime.bench.measure import BenchResult, bench_artifact
from edgepack.runtime.bench.overhead import load_overhead, measure_session_overhead
from edgepack.runtime.limits import check_count, check_threads


@dataclass
class BenchReport:
    source: str
    kind: str  # "bundle" or "convert-dir"
    device: dict
    results: list[BenchResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"schema": "edgepack.bench/1", "edgepack_version": __version__, "source": self.source,
                "kind": self.kind, "device": self.device, "results": [r.to_dict() for r in self.results],
                "notes": self.notes}


@contextlib.contextmanager
def _artifacts(target: Path) -> Iterator[tuple[str, list[Artifact]]]:
    if (target / "convert.json").is_file():
        yield "convert-dir", load_artifacts(target)
        return
    from edgepack.runtime.bundle.reader import Bundle

    with Bundle(target) as b:
        yield "bundle", [b.artifact(a["engine"], a["precision"]) for a in b.manifest.artifacts]


VULKAN_ENGINES = ("ncnn",)  # adapters that take device="vulkan"


def run_bench(target: str | Path, threads: Sequence[int] = (1,), runs: int = 30, overhead: bool = True,
              load_repeats: int = 3, vulkan: bool = False,
              progress: Callable[[str], None] | None = None) -> BenchReport:
    say = progress or (lambda s: None)
    target = Path(target)
    if not target.exists():
        raise InputError(f"'{target}' not found; pass a .edgepack bundle or an edgepack convert output directory")
    runs = check_count(runs, "--runs")
    threads = [check_threads(t, "--threads") for t in threads]
    if vulkan:
        from edgepack.runtime.bundle.choose import _vulkan_available

        if not _vulkan_available():
            raise InputError("--vulkan: no Vulkan device found (ncnn sees none); install a Vulkan driver or drop "
                             "--vulkan")
    with _artifacts(target) as (kind, arts):
        report = BenchReport(str(target), kind, describe_device())
        for art in arts:
            feeds = seeded_inputs(art.inputs, 0)
            for t in threads:
                say(f"bench: {art.engine} {art.precision} x{t}")
                try:
                    r = bench_artifact(art, feeds, threads=t, runs=runs)
                except Error as e:
                    report.notes.append(f"{art.key} x{t}: {e}")
                    continue
                if kind == "bundle" and overhead:
                    say(f"session overhead: {art.engine} {art.precision} x{t}")
                    try:
                        so = measure_session_overhead(target, art.engine, art.precision, t, runs=runs)
                        r.session_overhead = so["ratio"]
                        if not so["post"]:
                            report.notes.append(f"{art.key}: session overhead measured without postprocessing "
                                                "(postprocess kernels absent in this build)")
                        r.load_overhead = load_overhead(target, art, t, repeats=load_repeats)["ratio"]
                    except Error as e:
                        report.notes.append(f"{art.key} x{t} session overhead: {e}")
                report.results.append(r)
            if vulkan and art.engine in VULKAN_ENGINES:
                say(f"bench: {art.engine} {art.precision} on Vulkan")
                try:
                    report.results.append(bench_artifact(art, feeds, threads=1, runs=runs, device_kind="vulkan"))
                except Error as e:
                    report.notes.append(f"{art.key} on Vulkan: {e}")
    return report


def write_report(report: BenchReport, out_dir: str | Path, force: bool = False) -> Path:
    with atomic_dir(out_dir, force=force) as tmp:
        (tmp / "bench.json").write_text(json.dumps(report.to_dict(), indent=2))
        if report.results and importlib.util.find_spec("matplotlib") is not None:  # the chart is optional
            from edgepack.runtime.bench.chart import bench_chart

            bench_chart(report, tmp / "bench.png")
    return Path(out_dir)


def record_into_bundle(bundle: str | Path, results: list[BenchResult]) -> None:
    """Replace the bundle's benchmarks from this device (same class and CPU) with `results`, atomically."""
    from edgepack.runtime.bundle.manifest import MANIFEST, bundle_files, validate
    from edgepack.runtime.bundle.reader import Bundle
    from edgepack.runtime.bundle.writer import write_bundle

    path = Path(bundle)
    with Bundle(path) as b:
        doc = json.loads(json.dumps(b.manifest.doc))
    dev = describe_device()
    keep = [x for x in doc["benchmarks"] if not (x["device"]["class"] == dev["class"] and
                                                 x["device"]["cpu"] == dev["cpu"])]
    doc["benchmarks"] = keep + [r.to_dict() for r in results]
    validate(doc, "the updated manifest")
    if path.is_dir():
        atomic_write_bytes(path / MANIFEST, json.dumps(doc, indent=2).encode())
        return
    with private_tempdir("record") as tmp, zipfile.ZipFile(path) as z:
        names = bundle_files(doc)  # checked as safe by validate()
        files = {name: Path(z.extract(name, tmp)) for name in names}
        write_bundle(path, doc, files, force=True)
