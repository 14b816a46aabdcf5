#!/usr/bin/env python3
"""ONNX node-test coverage: run the onnx 1.22.0 backend node tests through onnxruntime and every registered
conversion target with edgepack's own prepare / converters / engines, and write docs/coverage.md (summary,
failure classes, per-op table) and docs/coverage.json (per case, per engine: status + reason).

    PYTHONPATH=python python tools/coverage.py --data /tmp/onnxnode/onnx/backend/test/data/node
    ... --ops Relu,Conv --engines ncnn,mnn --limit 20     (quick runs write into --work, not docs/)

Results are appended to <work>/results.jsonl as they come; --resume skips what is already there.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import platform
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if importlib.util.find_spec("edgepack") is None:  # a source checkout without `pip install .`
    sys.path.insert(0, str(ROOT / "python"))

from edgepack.verify import nodetests  # noqa: E402
from edgepack.verify.nodetests import FAIL, NA, PASS, NodeCase  # noqa: E402

GET_DATA = """ONNX node-test data not found at {path}. Get it (without touching your onnx install) with:
  pip download onnx==1.22.0 --no-deps -d /tmp/onnx122
  mkdir -p /tmp/onnxnode && cd /tmp/onnxnode && unzip -q /tmp/onnx122/onnx-1.22.0-*.whl 'onnx/backend/test/data/node/*'
then pass --data /tmp/onnxnode/onnx/backend/test/data/node"""

SCHEMA = "edgepack.coverage/1"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("/tmp/onnxnode/onnx/backend/test/data/node"),
                    help="the node/ directory of the onnx 1.22.0 wheel")
    ap.add_argument("--engines", default="", help="comma list (default: onnxruntime + every target)")
    ap.add_argument("--ops", default="", help="comma list of op types, e.g. Relu,Conv")
    ap.add_argument("--limit", type=int, default=0, help="at most N cases")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per step before a case is killed")
    ap.add_argument("--work", type=Path, default=Path("/tmp/edgepack-coverage"), help="scratch directory")
    ap.add_argument("--resume", action="store_true", help="keep results already in <work>/results.jsonl")
    ap.add_argument("--out", type=Path, default=None,
                    help="directory for coverage.md/.json (default docs/ for a full run, else --work)")
    args = ap.parse_args(argv)

    if not args.data.is_dir():
        print(GET_DATA.format(path=args.data), file=sys.stderr)
        return 2
    all_engines = nodetests.engine_names()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()] or all_engines
    bad = [e for e in engines if e not in all_engines]
    if bad:
        print(f"unknown engine(s) {bad}; choose from {', '.join(all_engines)}", file=sys.stderr)
        return 2
    partial = bool(args.ops or args.limit or args.engines)
    out = args.out or (args.work if partial else ROOT / "docs")
    ops = args.ops.split(",") if args.ops else None
    cases = nodetests.find_cases(args.data, ops=ops, limit=args.limit or None)
    if not cases:
        print("no cases selected", file=sys.stderr)
        return 2

    args.work.mkdir(parents=True, exist_ok=True)
    log = args.work / "results.jsonl"
    results: dict[str, dict[str, dict]] = defaultdict(dict)
    if args.resume and log.exists():
        for line in log.read_text().splitlines():
            rec = json.loads(line)
            results[rec["case"]][rec["engine"]] = rec["result"]
    elif log.exists():
        log.unlink()
    todo = [c for c in cases if any(e not in results.get(c.name, {}) for e in engines)]
    by_engines: dict[tuple[str, ...], list[NodeCase]] = defaultdict(list)
    for c in todo:
        by_engines[tuple(e for e in engines if e not in results.get(c.name, {}))].append(c)

    print(f"{len(cases)} cases ({len(cases) - len(todo)} already done), engines {', '.join(engines)}, "
          f"{args.jobs} workers", flush=True)
    t0 = time.monotonic()
    with log.open("a") as sink, Progress(len(todo)) as progress:
        def on_result(case: NodeCase, engine: str, res: dict) -> None:
            results[case.name][engine] = res
            sink.write(json.dumps({"case": case.name, "engine": engine, "result": res}) + "\n")
            sink.flush()
            progress.result(engine, res)

        for eng_subset, subset in by_engines.items():
            nodetests.run_cases(subset, list(eng_subset), args.work, jobs=args.jobs, timeout=args.timeout,
                                on_result=on_result, on_case_done=lambda c: progress.case_done(c.name))
    seconds = time.monotonic() - t0

    doc = build_json(cases, engines, results, seconds, args.work)
    write_report(doc, out)
    print(f"done in {seconds / 60:.1f} min; wrote {out / 'coverage.md'} and {out / 'coverage.json'}")
    for line in summary_lines(doc):
        print("  " + line)
    return 0


class Progress:
    """A rich progress bar on a terminal, else one line every 50 cases (for logs)."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.t0 = total, 0, time.monotonic()
        self.passed: Counter = Counter()
        self.bar = None
        if sys.stdout.isatty():
            from rich.progress import Progress as RichProgress

            self.bar = RichProgress(*RichProgress.get_default_columns(), "{task.fields[info]}")
            self.task = self.bar.add_task("node tests", total=total, info="")

    def __enter__(self) -> Progress:
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.stop()

    def result(self, engine: str, res: dict) -> None:
        self.passed[engine] += res.get("status") == PASS

    def case_done(self, name: str) -> None:
        self.done += 1
        info = " ".join(f"{e}={n}" for e, n in self.passed.items())
        if self.bar:
            self.bar.update(self.task, advance=1, info=info)
        elif self.done % 50 == 0 or self.done == self.total:
            el = time.monotonic() - self.t0
            eta = el / self.done * (self.total - self.done)
            print(f"[{self.done}/{self.total}] {el / 60:.1f} min, eta {eta / 60:.1f} min, pass: {info}", flush=True)


def versions() -> dict[str, str]:
    def v(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "missing"

    return {"onnxruntime": v("onnxruntime"), "pnnx": v("pnnx"), "ncnn": v("ncnn"), "mnn": v("mnn"),
            "openvino": v("openvino"),
            "onnx": v("onnx"), "onnxslim": v("onnxslim")}


def write_report(doc: dict, out: Path) -> None:
    """coverage.json with one case per line (small, diffable) and coverage.md."""
    out.mkdir(parents=True, exist_ok=True)
    head = {k: v for k, v in doc.items() if k != "cases"}
    lines = [json.dumps(head, indent=1)[:-2] + ',\n "cases": {']
    lines.append(",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in doc["cases"].items()))
    lines.append(" }\n}\n")
    (out / "coverage.json").write_text("\n".join(lines))
    (out / "coverage.md").write_text(render_md(doc))


def _clean(res: dict, work: str) -> dict:
    """Drop scratch paths from failure details so reruns diff cleanly."""
    if "detail" in res:
        res = dict(res, detail=re.sub(re.escape(work) + r"/w\d+-[\w.-]+", "<work>", res["detail"]))
    return res


def build_json(cases: list[NodeCase], engines: list[str], results: dict, seconds: float, work: Path) -> dict:
    na = {"status": NA, "reason": "not run"}
    return {
        "schema": SCHEMA,
        "source": "onnx 1.22.0 backend node tests (onnx/backend/test/data/node)",
        "generated": datetime.date.today().isoformat(),
        "host": f"{platform.machine()} {platform.system()}, python {platform.python_version()}",
        "run_seconds": round(seconds),
        "tolerance": {"rtol": nodetests.RTOL, "atol": nodetests.ATOL},
        "versions": versions(),
        "engines": engines,
        "cases": {c.name: {"op": c.op, "float32": c.float32, "single_node": c.single_node,
                           "results": {e: _clean(results.get(c.name, {}).get(e, na), str(work.absolute()))
                                       for e in engines}}
                  for c in cases},
    }


def _subsets(doc: dict) -> list[tuple[str, list[dict]]]:
    cases = list(doc["cases"].values())
    return [("all cases", cases), ("float32-only", [c for c in cases if c["float32"]]),
            ("float32 single-node", [c for c in cases if c["float32"] and c["single_node"]])]


def summary_lines(doc: dict) -> list[str]:
    lines = []
    for e in doc["engines"]:
        parts = [f"{label} {sum(c['results'][e]['status'] == PASS for c in cs)}/{len(cs)}"
                 for label, cs in _subsets(doc)]
        lines.append(f"{e}: " + ", ".join(parts))
    return lines


def reason_class(reason: str) -> str:
    """Group reasons: drop op names and numbers (mismatch sizes, opsets, shapes)."""
    r = re.sub(r"unsupported op \S+", "unsupported op", reason)
    r = re.sub(r"shape \[.*\] != \[.*\]", "wrong output shape", r)
    if r.startswith("mismatch max abs"):
        return "mismatch max abs (any)"
    return re.sub(r"opset \d+", "opset N", r)


def _cell(results: list[dict]) -> str:
    n = len(results)
    ok = sum(r["status"] == PASS for r in results)
    na = sum(r["status"] == NA for r in results)
    if na == n:
        return "n/a"
    fails = Counter(r.get("reason", "") for r in results if r["status"] == FAIL)
    cell = f"{ok}/{n - na}"
    if fails:
        top, k = fails.most_common(1)[0]
        more = sum(fails.values()) - k
        cell += f" · {top}" + (f" (+{more} other)" if more else "")
    return cell


def render_md(doc: dict) -> str:
    engines = doc["engines"]
    v = doc["versions"]
    cases = doc["cases"]
    ops = {c["op"] for c in cases.values()}
    out = [
        "# ONNX node-test coverage",
        "",
        f"Generated by `tools/coverage.py` on {doc['generated']} ({doc['host']}; run took "
        f"{doc['run_seconds'] / 60:.1f} min) from the {doc['source']}: {len(cases)} cases, {len(ops)} ops.",
        "",
        "Each case goes through what a user gets: `prepare` (checker, shapes, onnxslim), the registered "
        "converter at fp32, edgepack's engine adapter, then the engine's outputs are compared with the "
        f"case's expected outputs (rtol {doc['tolerance']['rtol']}, atol {doc['tolerance']['atol']}; "
        "same element count, reshaped). onnxruntime runs the prepared ONNX model.",
        "",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "Per-case results (status + reason) are in `docs/coverage.json`; CI checks a sample of them "
        "(`tests/test_coverage_sample.py`). Regenerate with "
        "`PYTHONPATH=python python tools/coverage.py --data <onnx 1.22.0 wheel>/onnx/backend/test/data/node` "
        "(the script prints how to get the data). Workers run with an 8 GiB address-space cap, so an "
        "engine that tries a huge allocation fails (often as \"output not produced\") instead of being "
        "killed by the OOM killer.",
        "",
        "## Summary",
        "",
        "| engine | " + " | ".join(f"{label} ({len(cs)})" for label, cs in _subsets(doc)) + " |",
        "|---|" + "---:|" * len(_subsets(doc)),
    ]
    for e in engines:
        cells = []
        for _, cs in _subsets(doc):
            ok = sum(c["results"][e]["status"] == PASS for c in cs)
            cells.append(f"{ok} ({100 * ok / max(1, len(cs)):.0f}%)")
        out.append(f"| {e} | " + " | ".join(cells) + " |")
    na = sum(all(r["status"] == NA for r in c["results"].values()) for c in cases.values())
    out += ["", f"{na} cases take or return sequences/optionals (n/a for every engine). \"float32-only\": "
            "every graph input and output is float32; \"single-node\" excludes function expansions "
            "(`*_expanded`).", "", "## Failure classes", "",
            "| reason | " + " | ".join(engines) + " |", "|---|" + "---:|" * len(engines)]
    classes: dict[str, Counter] = defaultdict(Counter)
    for c in cases.values():
        for e in engines:
            r = c["results"][e]
            if r["status"] == FAIL:
                classes[reason_class(r.get("reason", ""))][e] += 1
    for cls, cnt in sorted(classes.items(), key=lambda kv: -sum(kv[1].values())):
        out.append(f"| {cls} | " + " | ".join(str(cnt.get(e, "")) for e in engines) + " |")
    out += ["", "## Per op", "",
            "Cells: passed/run · the most common failure reason. Rows marked (expanded) are the ONNX function "
            "decompositions of the op (several primitive nodes).", "",
            "| op | cases | " + " | ".join(engines) + " |", "|---|---:|" + "---|" * len(engines)]
    rows: dict[tuple[str, bool], list[dict]] = defaultdict(list)
    for c in cases.values():
        rows[(c["op"], not c["single_node"])].append(c)
    for (op, expanded), cs in sorted(rows.items(), key=lambda kv: (kv[0][0].lower(), kv[0][1])):
        label = f"{op} (expanded)" if expanded else op
        cells = [_cell([c["results"][e] for c in cs]) for e in engines]
        out.append(f"| {label} | {len(cs)} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
