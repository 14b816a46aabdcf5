"""A fixed sample of ONNX node tests (tests/fixtures/node_sample, copied from the onnx 1.22.0 wheel) runs
through the same harness as tools/coverage.py; every (case, engine) that passes in the committed
docs/coverage.json must still pass. Newly passing cases are fine (regenerate the report to record them)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgepack.verify import nodetests

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "fixtures" / "node_sample"
REPORT = ROOT / "docs" / "coverage.json"


def test_compare_outputs_reshapes_when_element_counts_match() -> None:
    e = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    # ncnn drops the leading batch of 1: same elements, other shape -> compared after reshape
    assert nodetests.compare_outputs({"y": e}, {"y": e.reshape(2, 3)}) == (nodetests.PASS, "")
    status, reason = nodetests.compare_outputs({"y": e}, {"y": e[:, :1]})
    assert status == nodetests.FAIL and reason.startswith("shape")


def test_compare_outputs_tolerance_nan_and_exact_types() -> None:
    e = np.array([1.0, 2.0, np.nan], dtype=np.float32)
    assert nodetests.compare_outputs({"y": e}, {"y": e + 5e-4})[0] == nodetests.PASS
    assert nodetests.compare_outputs({"y": e}, {"y": e + 0.3}) == (nodetests.FAIL, "mismatch max abs 0.3")
    assert nodetests.compare_outputs({"y": e}, {"y": np.array([1.0, 2.0, 3.0])})[1] == "mismatch (NaN)"
    b = np.array([True, False])
    assert nodetests.compare_outputs({"y": b}, {"y": ~b})[0] == nodetests.FAIL
    assert nodetests.compare_outputs({"y": b}, {})[1] == "output 'y' missing"


def test_regressions_ignore_new_passes() -> None:
    base = {"a": {"ncnn": {"status": "pass"}, "mnn": {"status": "fail", "reason": "x"}}}
    now = {"a": {"ncnn": {"status": "fail", "reason": "load failed"}, "mnn": {"status": "pass"}}}
    assert nodetests.regressions(base, now) == ["a [ncnn]: load failed"]
    assert nodetests.regressions(now, base) == ["a [mnn]: x"]


@pytest.mark.slow
def test_node_sample_keeps_committed_passes(tmp_path: Path) -> None:
    report = json.loads(REPORT.read_text())
    cases = nodetests.find_cases(SAMPLE)
    assert len(cases) >= 40, f"node sample missing under {SAMPLE}"
    unknown = [c.name for c in cases if c.name not in report["cases"]]
    assert not unknown, f"sample cases absent from {REPORT.name}: {unknown}; rerun tools/coverage.py"
    engines = [e for e in nodetests.engine_names() if e in report["engines"]]
    results = nodetests.run_cases(cases, engines, tmp_path, jobs=2, timeout=120)
    # the sample holds cases that crash an engine: every (case, engine) must still get a result
    lost = [(c, e) for c, per in results.items() for e in engines if e not in per]
    assert not lost, f"no result for {lost}"
    baseline = {name: report["cases"][name]["results"] for name in results}
    broken = nodetests.regressions(baseline, results)
    assert not broken, "cases that pass in docs/coverage.json fail now:\n  " + "\n  ".join(broken)
